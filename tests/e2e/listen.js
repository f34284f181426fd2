// Records what the page can observe: Letterbox's events on document, and CSP violations.
window.__events = [];
window.__violations = [];
for (const name of ["letterbox:ready", "letterbox:submit", "letterbox:success", "letterbox:error",
                    "letterbox:suggestion"]) {
  document.addEventListener(name, (e) => window.__events.push({ type: e.type, detail: e.detail }));
}
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(e.violatedDirective + " " + e.blockedURI));
