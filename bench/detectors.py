"""Which face detector the dlib backbone uses: recall and time of each candidate on real photos.

On every photo of ``five_celebrity_faces`` (train and test), each detector facerec can use:
MTCNN (the core's detector), dlib's HOG detector, and the pair facerec uses for the dlib backbone
(MTCNN, then HOG on the photos where MTCNN finds nothing). Every photo shows a person, so a photo
with no face found is a miss; recall is the share of photos with a face found.

    python -m bench.detectors            # the reported numbers
    python -m bench.detectors --quick
"""

from __future__ import annotations

import time

from bench import harness

harness.quiet_tensorflow()


def main() -> int:
    arguments = harness.parser(__doc__.splitlines()[0]).parse_args()
    started, machine = time.perf_counter(), harness.machine_info()
    from facerec.dlib_faces import HogFaceDetector
    from facerec.faces import FaceDetector, FallbackDetector
    from facerec.images import load_image

    root = harness.dataset("five_celebrity_faces")
    splits = {split: [path for paths in harness.image_files(root / split).values() for path in paths] for split in ("train", "test")}
    if arguments.quick:
        splits = {split: paths[:3] for split, paths in splits.items()}
    mtcnn, hog = FaceDetector(), HogFaceDetector()
    detectors = {"MTCNN (core default)": mtcnn, "dlib HOG": hog, "MTCNN, then dlib HOG if none (dlib backbone)": FallbackDetector(mtcnn, hog)}
    table = harness.Table("Photos with a face found, by detector", [
        "detector", "split", "photos", "face found", "recall", "missed photos", "ms per photo (p50)", "load (1 min)"])
    summary = []
    for name, detector in detectors.items():
        detector.detect(load_image(splits["train"][0]))  # builds the networks
        for split, paths in splits.items():
            times, missed = [], []
            for path in paths:
                image = load_image(path)
                began = time.perf_counter()
                faces = detector.detect(image)
                times.append(time.perf_counter() - began)
                if not faces:
                    missed.append(f"{path.parent.name}/{path.name}")
            found = len(paths) - len(missed)
            table.add(name, split, len(paths), found, found / len(paths), ", ".join(missed) or "–",
                      1000 * harness.percentile(times, 50), harness.load_average().split("/")[0])
            summary.append(f"{name}, {split}/: {found} of {len(paths)} photos")
    table.notes.append("ms per photo: the detector alone on the decoded photo; the pair runs HOG only where MTCNN finds no face.")
    harness.write_report("detectors", "Face detector recall on five_celebrity_faces", [table], machine=machine,
                         arguments=arguments, started=started, summary=summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
