"""The Hugging Face Space's entry, and ``python app.py``: facerec's web app (see :mod:`facerec.app`)."""

from facerec.app import demo, main

if __name__ == "__main__":
    main()
