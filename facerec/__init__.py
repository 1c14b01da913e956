"""facerec: build a face recognizer (or any image classifier) from a few labelled photos.

    import facerec
    clf = facerec.train("data/")          # <label>/<image> folders
    clf.predict("photo.jpg")              # {label: probability}
    clf.recognize("group.jpg")            # every face, boxed and named
    clf.save("my-model/")
"""

__version__ = "0.1.0"

from facerec.api import Classifier, Dataset, ImageError, NoFaceError, TrainingSettings, TrainingUpdate, detect_faces, load_image, push_to_hub, train  # noqa: E402
