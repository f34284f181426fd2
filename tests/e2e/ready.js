// Records when Letterbox.ready resolves, registered the way the README shows.
window.__ready = false;
function whenReady(api) { api.ready.then(() => { window.__ready = true; }); }
if (window.Letterbox) whenReady(window.Letterbox);
else document.addEventListener("letterbox:loaded", (e) => whenReady(e.detail), { once: true });
