"""AppTest of every page: app.py and pages/."""
