// The explorer's staircase follows a slider while it is dragged (ui/drag_preview.py mounts this).
//
// Streamlit sends a slider's value to the server on release only. Until then this module redraws
// the page's own Plotly chart from StepLR's closed form on every animation frame, in the page:
// the sliders stay Streamlit's (keyboard, screen readers and the URL keep working), and on release
// the server's rerun replaces the preview with its figure (PyTorch's curve included). An arrow
// key on a slider is drawn the same way in the next frame, while its rerun is on its way.

// η_t = η₀ · γ^⌊t/s⌋: the expression torch's StepLR uses; V8's Math.pow agrees with Python's
// float power bit for bit (tests/e2e/test_drag_preview_browser.py checks it).
export function stepLr(baseLr, gamma, stepSize, epoch) {
  return baseLr * Math.pow(gamma, Math.floor(epoch / stepSize));
}

export function lrCurve(baseLr, gamma, stepSize, epochs) {
  const lrs = new Array(epochs);
  for (let t = 0; t < epochs; t++) lrs[t] = stepLr(baseLr, gamma, stepSize, t);
  return lrs;
}

const KEYS = ["baseLr", "gamma", "stepSize", "epochs"];

// One observer per page: the module is evaluated once, and Streamlit calls the default export
// again (without the last cleanup) whenever the server sends new data.
const state = {
  data: null,
  observer: null,
  dragging: false,
  keyed: false, // a key moved a slider: its rerun is coming, drawn ahead by the preview
  frame: 0,
  snapshot: null,
  drawn: null,
};

function rangeInput(key) {
  return document.querySelector(`.st-key-${key} input[type=range]`);
}

// The values the sliders show now, mid-drag included; null while any is missing.
function readControls(data) {
  const values = {};
  for (const name of KEYS) {
    const input = rangeInput(data.controls[name]);
    if (!input) return null;
    const value = Number(input.value);
    // η₀ is a select slider: its input holds the index into the 1-2-5 series.
    values[name] = name === "baseLr" ? data.lrOptions[value] : value;
    if (!Number.isFinite(values[name])) return null;
  }
  return values;
}

function sameValues(a, b) {
  return KEYS.every((k) => a[k] === b[k]);
}

// As steplr_viz.schedules.steplr.decay_epochs: none with γ = 1, where multiplying changes nothing.
function decayEpochs(v) {
  const decays = [];
  if (v.gamma === 1) return decays;
  for (let t = v.stepSize; t < v.epochs; t += v.stepSize) decays.push(t);
  return decays;
}

function previewTraces(traces, v, data) {
  const x = Array.from({ length: v.epochs }, (_, t) => t);
  const y = lrCurve(v.baseLr, v.gamma, v.stepSize, v.epochs);
  const decays = decayEpochs(v);
  const decayTrace = (t) => ({ ...t, x: decays, y: decays.map((e) => y[e]) });
  const out = traces
    .filter((t) => decays.length || t.name !== data.names.decay)
    .map((t) => {
      if (t.name === data.names.closed) return { ...t, x, y };
      if (t.name === data.names.decay) return decayTrace(t);
      // PyTorch's recorded curve comes from the server on release; it waits in the legend.
      if (t.name === data.names.torch) return { ...t, visible: "legendonly" };
      return t; // pinned curves stay as they were pinned
    });
  if (decays.length && !traces.some((t) => t.name === data.names.decay)) {
    out.push(decayTrace(data.decayTrace));
  }
  return out;
}

function previewLayout(layout, epochs) {
  // The worked example's line past the horizon would stretch the x axis: drop it for now.
  const shapes = (layout.shapes || []).filter((s) => s.xref !== "x" || s.x0 < epochs);
  return {
    ...layout,
    shapes,
    xaxis: { ...layout.xaxis, autorange: true },
    yaxis: { ...layout.yaxis, autorange: true },
    meta: "drag preview", // benchmarks and tests tell a preview from the server's figure
  };
}

// While only γ or s moves on a linear axis, the axes stay as Plotly laid them out, so the drawn
// line and markers are moved in place: Plotly.react costs ~25 ms of main thread a frame on two
// busy cores, this well under one. Anything else goes through Plotly.react.
function axesStay(gd, v, was) {
  if (!was || v.baseLr !== was.baseLr || v.epochs !== was.epochs) return false;
  if (gd._fullLayout.yaxis.type !== "linear") return false;
  const xa = gd._fullLayout.xaxis;
  // Markers pad the autorange where they reach an edge: near the top (γ close to 1), on the
  // last epoch, or next to the y axis. There Plotly must lay the axes out again.
  const inside = (w) =>
    w.gamma <= 0.9 &&
    (w.epochs - 1) % w.stepSize !== 0 &&
    w.stepSize < w.epochs &&
    xa.c2p(w.stepSize) > 12;
  return inside(v) && inside(was);
}

function moveInPlace(gd, v, data) {
  const drawn = {};
  for (const g of gd.querySelectorAll(".scatterlayer .trace")) {
    const trace = g.__data__?.[0]?.trace; // Plotly binds each trace's calcdata to its group
    if (trace) drawn[trace.name] = g;
  }
  const line = drawn[data.names.closed]?.querySelector("path.js-line");
  const points = drawn[data.names.decay]?.querySelectorAll("path.point") || [];
  if (!line || !points.length) return false;
  const xa = gd._fullLayout.xaxis;
  const ya = gd._fullLayout.yaxis;
  const px = (t) => xa.c2p(t).toFixed(2);
  const py = (lr) => ya.c2p(lr).toFixed(2);
  const y = lrCurve(v.baseLr, v.gamma, v.stepSize, v.epochs);
  let d = `M${px(0)},${py(y[0])}`;
  for (let t = 1; t < v.epochs; t++) d += `H${px(t)}V${py(y[t])}`; // the "hv" step shape
  line.setAttribute("d", d);
  const decays = decayEpochs(v);
  if (!decays.length) return false;
  const layer = points[0].parentNode;
  for (let i = points.length; i < decays.length; i++) layer.appendChild(points[0].cloneNode(true));
  const marks = layer.querySelectorAll("path.point");
  for (let i = decays.length; i < marks.length; i++) marks[i].remove();
  decays.forEach((e, i) => marks[i].setAttribute("transform", `translate(${px(e)},${py(y[e])})`));
  // The figure's data says what is drawn, for a redraw (a resize) and for whoever reads it.
  for (const traces of [gd.data, gd._fullData]) {
    for (const t of traces) {
      if (t.name === data.names.closed) t.y = y;
      if (t.name === data.names.decay) Object.assign(t, { x: decays, y: decays.map((e) => y[e]) });
    }
  }
  return true;
}

function draw() {
  state.frame = 0;
  const data = state.data;
  const Plotly = window.Plotly; // set by Streamlit's Plotly chart code, loaded with the chart
  const gd = data && document.querySelector(`.st-key-${data.chart} .js-plotly-plot`);
  if (!Plotly || !gd || !gd.data) return;
  const v = readControls(data);
  if (!v) return;
  const atStart = sameValues(v, data.values);
  if (!state.snapshot) {
    if (atStart) return; // nothing moved
    state.snapshot = { data: gd.data, layout: gd.layout };
  }
  const { snapshot } = state;
  if (atStart && !state.dragging) {
    // Released (or keyed back) where it started: no rerun will come, so put the server's
    // figure back.
    state.snapshot = null;
    state.drawn = null;
    Plotly.react(gd, snapshot.data, snapshot.layout);
    return;
  }
  if (state.drawn && sameValues(v, state.drawn)) return;
  const was = state.drawn;
  state.drawn = v;
  if (axesStay(gd, v, was) && moveInPlace(gd, v, data)) return;
  Plotly.react(gd, previewTraces(snapshot.data, v, data), previewLayout(snapshot.layout, v.epochs));
}

function inControl(node) {
  const keys = Object.values(state.data.controls);
  return node instanceof Element && keys.some((k) => node.closest(`.st-key-${k}`));
}

// A pointer drag and a key press on a slider are previewed; a value the server sets (a link, a
// rerun) never is, so it can never leave a preview on screen. A key press reruns at once: the
// preview draws the new staircase in the next frame, and the rerun's figure replaces it.
function onPointerDown(event) {
  state.dragging = inControl(event.target);
}

const SLIDER_KEYS = new Set([
  "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End",
]);

function onKeyDown(event) {
  if (state.data && SLIDER_KEYS.has(event.key) && inControl(event.target)) state.keyed = true;
}

function onPointerUp() {
  if (!state.dragging) return;
  state.dragging = false;
  // One more frame: it draws the released value, or puts the server's figure back.
  if (!state.frame) state.frame = requestAnimationFrame(draw);
}

function onMutations(records) {
  if (!(state.dragging || state.keyed) || !records.some((r) => inControl(r.target))) return;
  if (!state.frame) state.frame = requestAnimationFrame(draw);
}

function install() {
  state.observer = new MutationObserver(onMutations);
  // A slider's thumb label changes on every move.
  state.observer.observe(document.body, {
    subtree: true,
    attributes: true,
    attributeFilter: ["aria-valuetext"],
  });
  // Capture on the way down, before the slider sees the press; bubble on the way up, after the
  // slider has set its released value.
  document.addEventListener("pointerdown", onPointerDown, true);
  document.addEventListener("keydown", onKeyDown, true);
  window.addEventListener("pointerup", onPointerUp);
  window.addEventListener("pointercancel", onPointerUp);
}

function uninstall() {
  state.observer.disconnect();
  state.observer = null;
  document.removeEventListener("pointerdown", onPointerDown, true);
  document.removeEventListener("keydown", onKeyDown, true);
  window.removeEventListener("pointerup", onPointerUp);
  window.removeEventListener("pointercancel", onPointerUp);
  if (state.frame) cancelAnimationFrame(state.frame);
  state.frame = 0;
}

export default function (component) {
  // New data means a rerun finished: its figure is the truth again.
  state.data = component.data;
  state.snapshot = null;
  state.drawn = null;
  state.keyed = false;
  if (!state.observer) install();
  return () => {
    if (state.observer) uninstall();
  };
}
