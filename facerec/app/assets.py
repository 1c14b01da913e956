"""How the app looks: theme, style sheet, page script and the static HTML."""

from __future__ import annotations

from pathlib import Path

import gradio as gr

HERE = Path(__file__).resolve().parent

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
#train-status { min-height: 64px; }
footer { visibility: visible; }

/* The page's camera (camera.js): a mirrored preview, a note while it is off. */
.facerec-camera { position: relative; border-radius: 12px; overflow: hidden; background: #1f2430; aspect-ratio: 4 / 3; }
.facerec-camera video { width: 100%; height: 100%; object-fit: cover; transform: scaleX(-1); display: block; }
.facerec-camera:not(.on) video { visibility: hidden; }
.facerec-camera-off { position: absolute; inset: 0 0 44px 0; display: flex; align-items: center; justify-content: center;
                      text-align: center; padding: 0 24px; }
.facerec-camera-off p, .facerec-camera-off b { color: #e5e7eb !important; }
.facerec-camera.on .facerec-camera-off { display: none; }
.facerec-camera-bar { position: absolute; left: 0; right: 0; bottom: 0; display: flex; gap: 10px; align-items: center;
                      padding: 8px 10px; background: rgba(15, 18, 26, 0.55); color: white; font-size: 0.9rem; }
.facerec-camera-bar button { background: rgba(255,255,255,0.18); color: white; border: none; border-radius: 999px;
                             padding: 4px 12px; cursor: pointer; }
.facerec-live { max-width: 640px; margin: 0 auto; }
.facerec-camera canvas.facerec-overlay { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.facerec-live-panel { position: absolute; top: 8px; left: 8px; padding: 4px 10px; border-radius: 8px;
                      background: rgba(15, 18, 26, 0.6); color: white; font-size: 0.95rem; }
.facerec-live-panel:empty { display: none; }

/* One card per label (Collect). */
.label-card { border: 1px solid var(--border-color-primary); border-radius: 12px; padding: 8px 10px; margin-bottom: 10px; }
.label-card .card-title h3 { margin: 0; }
.facerec-record { user-select: none; touch-action: none; }
.facerec-record.recording { background: #dc2626 !important; color: white !important; }
.empty-cards { padding: 24px; border: 2px dashed var(--border-color-primary); border-radius: 12px; }

/* Results: the answer in big letters; tables that show every column. */
#photo-result img { object-fit: contain; }
#predict-headline h2 { margin: 6px 0 0 0; font-size: 2rem; }
#per-class table, #confusion table { table-layout: auto; }
"""

# The page's script: the camera (capture, hold-to-record, the live view's page side), then a
# touch of polish: the banner's steps open their tab.
PAGE_JS = "() => {\n" + (HERE / "camera.js").read_text(encoding="utf-8") + """
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
    "and they are deleted two minutes after you close or reload the tab (or after {timeout} idle). Download the dataset or push the model to keep them. "
    "Example faces: The Database of Faces, AT&T Laboratories Cambridge (Olivetti Research Laboratory).</small>"
)
