"""Teaching a class: presenter steps, class answers, join address, permissions, experiments."""
