// Runs in the entry script before the wasm is fetched (issue 11, item 5): each slot on the page
// gets a min-height estimated from its configuration (newsletters, title, intro, fields, consent,
// its width and font), so the form the wasm renders later lands inside that box and nothing
// below moves. A host the site already sized (a min-height in its own CSS: the documented
// placeholder, which also covers the paint before this script runs) or that is already mounted
// is left alone, and so is a goal slot (a few lines, shorter still when its count is missing);
// a host holding the site's own form keeps at least that form's height. The reservation stays
// (a shorter state such as success leaves the space as it was) until the slot is unmounted or
// the wasm cannot start (`data-letterbox-reserved` marks it; both clear it). A configuration
// this estimate cannot read reserves nothing for that slot, never stops the others. Written
// through the CSSOM, so a strict style-src allows it. Figures are em at the widget's line height
// (1.5), from style/letterbox.css; `cargo xtask e2e` checks that every slot of its article page
// lands inside its box and that the page does not shift.
(() => {
  const sizes = [];
  const pen = document.createElement("canvas").getContext("2d");
  const root = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  // Every host is measured first and sized after, so the page is laid out once.
  for (const host of document.querySelectorAll("[data-letterbox]")) try {
    const style = getComputedStyle(host);
    if (host.shadowRoot || host.hasAttribute("data-letterbox-mounted") || parseFloat(style.minHeight) > 0) continue;
    let c = {};
    try {
      c = JSON.parse(host.querySelector(":scope>script[type='application/json']")?.textContent || "{}") || {};
    } catch (e) {}
    if (typeof c !== "object" || c.kind === "goal") continue;
    const form = host.querySelector("form");
    const list = Array.isArray(c.newsletters) ? c.newsletters.filter((x) => x && typeof x === "object") : [];
    const n = list.length || (form ? form.querySelectorAll("input[type=checkbox]").length : 1);
    // The widget's font: the host's family at max(1em, 1rem).
    const font = Math.max(parseFloat(style.fontSize) || 16, root);
    const uk = /^uk/.test(host.dataset.lang || c.lang || host.closest("[lang]")?.lang);
    // Em per letter in this font, from a sample of the widget’s own text, and more for the room
    // lost at the end of wrapped lines.
    const sample = "We’ll only use this to send you the newsletters you choose.";
    let k = 0.5;
    if (pen) {
      pen.font = `700 ${font}px ${style.fontFamily}`;
      k = (pen.measureText(sample).width / sample.length / font) * 1.15 || k;
    }
    // Lines of `text` (or of that many letters) at `em` times the font size in `width` em.
    const fit = (text, em, width) => (text ? Math.ceil(((text.length ?? text) * k * em) / Math.max(width, 4)) : 0);
    const boxed = /boxed/.test(`${c.theme} ${host.dataset.theme}`);
    const w = (host.clientWidth || innerWidth) / font - (boxed ? 2.2 : 0);
    // A fifth of a line spare, so rounding never lets the form outgrow its box.
    let h = 1.8 + (boxed ? 2.2 : 0) + (c.image ? 10 : 0);
    if (c.title) h += fit(c.title, 1.4, w) * 1.75 + 0.75;
    if (c.intro) h += fit(c.intro, 1, w) * 1.5 + 0.75;
    if (n > 1) {
      // Legend (set as a label under a title), its hint, the fieldset's margin.
      h += (c.title ? 1.5 : 2.4) + fit(uk ? 37 : 25, 1, w) * 1.5 + 1.5;
      for (const x of list.length ? list : Array(n).fill({}))
        h += Math.max(1.5, fit((x.name?.length ?? 20) + 3 + (x.frequency?.length || 0), 1, w - 2.1) * 1.5) + fit(x.description, 1, w - 2.1) * 1.5 + 0.5;
    }
    // Each extra field: its label, the control (a text input or one <select>) and the gap.
    if (Array.isArray(c.fields)) h += c.fields.length * (1.5 + 2.6 + 0.75);
    if (c.consent) h += fit(c.consent.text || 64, 1, w - 2.1) * 1.5 + 2;
    // The email label, its hint, the field and the button: side by side while both fit (13em,
    // the gap and the button's padding and label), else one above the other.
    h += (n > 1 ? 1.5 : 1.65) + fit((n > 1 ? (uk ? 70 : 59) : (uk ? 52 : 32) + (list[0]?.name?.length ?? 14)), 1, w) * 1.5 + 0.75;
    h += w < 15.8 + (uk ? 11 : 7) * k ? 5.6 : 2.6;
    sizes.push([host, Math.ceil(Math.max(h * font, form ? host.offsetHeight : 0))]);
  } catch (e) {}
  for (const [host, px] of sizes) {
    host.style.minHeight = `${px}px`;
    host.setAttribute("data-letterbox-reserved", "");
  }
})();
