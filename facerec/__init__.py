"""facerec: build a face recognizer (or any image classifier) from a few labelled photos.

    import facerec
    clf = facerec.train("data/")          # <label>/<image> folders
    clf.predict("photo.jpg")              # {label: probability}
    clf.recognize("group.jpg")            # every face, boxed and named
    clf.save("my-model/")

The names below load on first use (PEP 562), so that importing facerec, or running
``python -m facerec labels``, does not wait seconds for TensorFlow.
"""

from typing import TYPE_CHECKING

from facerec._version import __version__
__all__ = ["Classifier", "Dataset", "ImageError", "NoFaceError", "TrainingSettings", "TrainingUpdate",
           "detect_faces", "load_image", "push_to_hub", "train", "__version__"]

if TYPE_CHECKING:
    from facerec.api import (Classifier, Dataset, ImageError, NoFaceError, TrainingSettings, TrainingUpdate,
                             detect_faces, load_image, push_to_hub, train)


def __getattr__(name: str):
    if name in __all__:
        from facerec import api

        return getattr(api, name)
    raise AttributeError(f"module 'facerec' has no attribute {name!r}")
