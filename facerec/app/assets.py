"""How the app looks: theme, style sheet, page script and the static HTML."""

from __future__ import annotations

import gradio as gr

# System fonts only: a web font would tell a font server about every visitor.
THEME = gr.themes.Soft(primary_hue="indigo", secondary_hue="emerald", neutral_hue="slate",
                       font=["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
                       font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"])

CSS = """
.gradio-container { max-width: 1280px !important; margin: auto; }
#hero { padding: 18px 22px; border-radius: 14px; color: white;
        background: linear-gradient(120deg, #4338ca 0%, #6d28d9 55%, #059669 100%); }
#hero h1 { margin: 0 0 4px 0; font-size: 1.75rem; color: white; }
#hero p { margin: 0; opacity: 0.92; color: white; }
#hero .steps { display: flex; align-items: center; gap: 10px; flex-wrap: wrap; margin-top: 12px; }
#hero .steps button { background: rgba(255,255,255,0.16); color: white; border: none; border-radius: 999px;
                      margin: 0; padding: 3px 12px; font-size: 0.9rem; line-height: 1.5; cursor: pointer; }
#hero .steps button:hover { background: rgba(255,255,255,0.3); }
.hint { color: var(--body-text-color-subdued); font-size: 0.92rem; }
#record-hold { user-select: none; touch-action: none; }
#train-status { min-height: 64px; }
footer { visibility: visible; }
"""

# Hold-to-record: pressing the button ticks the Record box, releasing it unticks it. And two
# touches of polish: the label menu stays closed, and the banner's steps open their tab.
HOLD_TO_RECORD_JS = """
() => {
  const box = () => document.querySelector('#recording input[type=checkbox]');
  const set = (on) => { const b = box(); if (b && b.checked !== on) b.click(); };
  let holding = false;
  const press = (event) => {
    if (!event.target.closest('#record-hold') || holding) return;
    holding = true; set(true);
  };
  const release = () => { if (holding) { holding = false; set(false); } };
  document.addEventListener('pointerdown', press);
  document.addEventListener('pointerup', release);
  document.addEventListener('pointercancel', release);
  document.addEventListener('keydown', (event) => {
    if ((event.key === ' ' || event.key === 'Enter') && !event.repeat && event.target.closest('#record-hold')) {
      event.preventDefault(); press(event);
    }
  });
  document.addEventListener('keyup', (event) => { if (event.target.closest('#record-hold')) release(); });
  // Gradio's dropdown opens its menu when its choices change while it holds a typed (new) label,
  // even without focus; close it again unless the visitor is using it.
  new MutationObserver(() => {
    const input = document.querySelector('#label input');
    const menu = document.querySelector('#label ul');
    if (input && menu && menu.offsetParent !== null && document.activeElement !== input) { input.focus(); input.blur(); }
  }).observe(document.body, { childList: true, subtree: true });
  // The steps in the banner open their tab.
  document.addEventListener('click', (event) => {
    const step = event.target.closest('#hero [data-tab]');
    if (!step) return;
    const tab = [...document.querySelectorAll('button[role=tab]')].find((b) => b.textContent.trim() === step.dataset.tab);
    if (tab) tab.click();
  });
}
"""

HERO = """
<div id="hero">
  <h1>facerec · teach a computer faces</h1>
  <p>Show it a few photos of each person, train in a minute, and it names every face it sees.
     Works for any kind of image, too.</p>
  <div class="steps">
    <button data-tab="1 · Collect photos">1 · Collect photos</button>
    <button data-tab="2 · Train">2 · Train</button>
    <button data-tab="3 · Try it">3 · Try it</button>
    <button data-tab="4 · Share">4 · Share</button>
  </div>
</div>
"""

PRIVACY = (
    "<small>🔒 Your photos and models stay in a private workspace of this browser tab: other visitors cannot see them, "
    "and they are deleted when you close or reload the tab (or after {timeout} idle). Download the dataset or push the model to keep them. "
    "Example faces: The Database of Faces, AT&T Laboratories Cambridge (Olivetti Research Laboratory).</small>"
)
