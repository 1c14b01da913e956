"""Train a face recognizer on a folder of photos, check it, save it, and name the faces in a photo.

When should I use this example?
    When you have photos of a few people sorted into one folder per person and want a working
    recognizer from Python in a few lines, without the app.

The folder layout (the one Keras' image_dataset_from_directory reads):

    <data>/
    ├── <person 1>/
    │   ├── <photo>.jpg
    │   └── ...
    └── <person 2>/
        └── ...

Usage:
    python examples/train_and_predict.py examples/faces examples/photos/group-of-three.jpg

The bundled examples/faces holds four people of the ORL face database (see examples/CREDITS.md);
examples/photos holds photos of them that are not in the training folder.
"""

import sys

import facerec


def main(data_folder: str, photo: str) -> None:
    # dlib's face network is the backbone to choose for people; the default, VGG16, suits any
    # kind of image (pets, objects) and needs no extra package.
    classifier = facerec.train(data_folder, backbone="dlib", epochs=30)
    print(f"backbone weights: {classifier.report['weights']}")
    print(f"validation accuracy: {classifier.metrics['accuracy']:.2f}")
    classifier.save("example-model")

    for face in facerec.Classifier.load("example-model").recognize(photo):
        print(f"{face['label']:>12}  probability {face['probability']:.2f}  distance {face['distance']:.2f}  at {face['box']}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
