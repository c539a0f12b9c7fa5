"""The pip section: resolve it per platform against what conda installs → ``locks/requirements.txt``.

Pipeline, per target platform: read the pip lines (:mod:`.requirements`), map the platform's
conda solution to PyPI names (:mod:`.mapping`), write stub wheels and ``==<version>+conda``
constraints for them (:mod:`.stubs`, :mod:`.jobs`), run ``uv pip compile`` for the platform's Python
and wheel tags (:mod:`.targets`, :mod:`.uv`, all platforms concurrently), drop what conda provides
(:mod:`.resolve`, :mod:`.direct`), and merge the platforms into one file with markers
(:mod:`.render`, :mod:`.header`). :mod:`.stage` runs it (:func:`lockgen.pypi.stage.lock_pip_files`);
:mod:`.start` begins it while conda still solves. When the file's input hash (:mod:`.digests`) is
unchanged and nothing forces an update, the existing bytes are returned without running uv.
"""
