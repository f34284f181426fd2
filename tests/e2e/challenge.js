// A site's challenge provider, registered the way the README shows: once Letterbox has loaded.
// It stands in for Turnstile (which cannot run here): a token that arrives a moment later.
window.__challenges = 0;
function registerChallenge(api) {
  api.challenge(({ slot }) => {
    window.__challenges += 1;
    return new Promise((resolve) => setTimeout(() => resolve("e2e-token-" + slot), 20));
  });
}
if (window.Letterbox) registerChallenge(window.Letterbox);
else document.addEventListener("letterbox:loaded", (e) => registerChallenge(e.detail), { once: true });
