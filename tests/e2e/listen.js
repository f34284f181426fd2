// Records what the page can observe: Letterbox's events on document, and CSP violations.
window.__events = [];
window.__violations = [];
// Script errors, including a trap in the widget's wasm reported from an event listener.
window.__errors = [];
window.addEventListener("error", (e) => window.__errors.push(String(e.message)));
window.addEventListener("unhandledrejection", (e) => window.__errors.push(String(e.reason)));
for (const name of ["letterbox:ready", "letterbox:submit", "letterbox:success", "letterbox:error",
                    "letterbox:suggestion"]) {
  document.addEventListener(name, (e) => window.__events.push({ type: e.type, detail: e.detail }));
}
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));
