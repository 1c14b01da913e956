"""Step 4, Share: push the model to the Hugging Face Hub, load one, or download it."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
from huggingface_hub import constants, get_token

from facerec.app.shared import AppContext, ModelViews, model_summary, note, reports_to
from facerec.classifier import Classifier
from facerec.hub import looks_like_repo_id


class ShareTab:
    """The Share tab's components, handlers and events."""

    def __init__(self, context: AppContext):
        self.context = context
        config = context.config
        with gr.Tab("4 · Share", id="share"):
            self.model_info = gr.Markdown()
            with gr.Row():
                with gr.Column():
                    gr.Markdown("### Push to the Hugging Face Hub\nThe model, its metrics and a model card, in one commit.")
                    self.repo_id = gr.Textbox(label="Repository", placeholder="your-name/my-face-model")
                    self.private = gr.Checkbox(value=True, label="Private repository (recommended for faces)")
                    self.token = gr.Textbox(label="Hugging Face token (write access)", type="password",
                                            placeholder="hf_…  (not needed if you signed in" + (
                                                " or the server has HF_TOKEN)" if config.use_server_token else ")"),
                                            info="Used for one push or load, then cleared: never stored, logged or shown.")
                    self.push_button = gr.Button("⬆ Push to the Hub", variant="primary")
                    self.push_note = gr.Markdown(elem_id="push-note")
                with gr.Column():
                    gr.Markdown("### Load a model from the Hub\nAny model pushed by facerec; private ones need a token.")
                    self.load_repo = gr.Textbox(label="Repository", placeholder="namespace/model-name")
                    self.load_revision = gr.Textbox(label="Revision (optional)", placeholder="main, a branch, or a commit id")
                    self.load_button = gr.Button("⬇ Load model")
                    self.load_note = gr.Markdown(elem_id="load-note")
                    gr.Markdown("### Download\nThe model as a zip: a Keras 3 folder that `keras.saving.load_model` "
                                "and `facerec.Classifier.load` read.")
                    self.export_button = gr.Button("⬇ Download model (.zip)")
                    self.model_file = gr.File(label="Model zip", visible=False)

    def wire(self, *, model_views: ModelViews) -> None:
        """Connect the events; a loaded model updates ``model_views`` (in every tab)."""
        self.model_views = model_views
        # The typed token is cleared by the handler itself, whatever the outcome: Gradio keeps
        # the inputs of a session's last calls in memory, and the token box is one of them.
        for event in (self.push_button.click(self.push, [self.repo_id, self.private, self.token], [self.push_note, self.token],
                                             api_name="push_to_hub"),
                      self.load_button.click(self.load, [self.load_repo, self.load_revision, self.token],
                                             [self.load_note, self.token, *model_views.components], api_name="load_from_hub")):
            event.failure(lambda: "", None, self.token, api_visibility="private", show_progress="hidden")  # after a fault too
        self.export_button.click(self.export_model, None, [self.model_file, self.load_note], api_name="export_model")

    def on_load(self, request: gr.Request, profile: gr.OAuthProfile | None) -> str:
        """The signed-in visitor's repo name, for a page (re)load."""
        return f"{profile.username}/my-face-model" if profile is not None else gr.skip()

    def show_model(self, classifier: Classifier | None) -> dict:
        """What this tab shows of the session's model."""
        return {self.model_info: model_summary(classifier)}

    # Handlers ----------------------------------------------------------------------------------

    @reports_to("push_note", clears="token")
    def push(self, repo_id: str, private: bool, token: str, oauth_token: gr.OAuthToken | None, request: gr.Request) -> dict:
        """Push the session's model to a Hub model repo (created if new)."""
        workspace = self.context.workspace(request)
        if workspace.classifier is None:
            raise ValueError("no model to push yet: train one in step 2 first")
        repo_id = (repo_id or "").strip()
        if not repo_id:
            raise ValueError("enter a repository name, like your-name/my-face-model")
        commit_url = workspace.classifier.push_to_hub(repo_id, token=self.hub_token(token, oauth_token, needed=True),
                                                      private=bool(private))
        repo_url = commit_url.split("/commit/")[0]
        pushed = "/".join(repo_url.rsplit("/", 2)[-2:])
        kept = " Its model card was edited on the Hub, so it was kept as it is." if commit_url.card_kept else ""
        return {self.push_note: note(f"Pushed to [{pushed}]({repo_url}) ({'private' if private else 'public'}).{kept} "
                                     f"Load it anywhere with `facerec.Classifier.from_pretrained(\"{pushed}\")`."),
                self.token: ""}

    @reports_to("load_note", clears="token")
    def load(self, repo_id: str, revision: str, token: str, oauth_token: gr.OAuthToken | None, request: gr.Request) -> dict:
        """Load a facerec model from a Hub repo as the session's model."""
        workspace = self.context.workspace(request)
        repo_id = (repo_id or "").strip()
        if not looks_like_repo_id(repo_id) or Path(repo_id).exists():
            raise ValueError("enter a Hub repo id like namespace/model-name")
        classifier = Classifier.from_pretrained(repo_id, revision=(revision or "").strip() or None,
                                                cache_dir=workspace.folder / "hub",
                                                token=self.hub_token(token, oauth_token, needed=False))
        workspace.classifier = classifier
        return {self.load_note: note(f"Loaded **{repo_id}**. Try it in step 3."), self.token: "",
                **self.model_views.updates(classifier)}

    @reports_to("load_note")
    def export_model(self, request: gr.Request) -> dict:
        """The session's model, saved and zipped, to download."""
        return {self.model_file: gr.File(value=str(self.context.workspace(request).export_model()), visible=True)}

    def hub_token(self, typed: str | None, oauth_token: gr.OAuthToken | None, *, needed: bool) -> str | bool | None:
        """The token for a Hub call: typed > signed-in > the server's HF_TOKEN (when allowed).

        Returns None to let huggingface_hub use the server's token (HF_TOKEN or its stored login),
        False to use no token at all.
        """
        if typed and typed.strip():
            return typed.strip()
        if oauth_token is not None and oauth_token.token:
            return oauth_token.token
        if self.context.config.use_server_token and (get_token() is not None or not needed):
            return None
        if needed:
            raise ValueError("pushing needs a Hugging Face token with write access: paste one"
                             + (", or sign in" if self.context.config.sign_in
                                else f" (create one at {constants.ENDPOINT}/settings/tokens)"))
        return False
