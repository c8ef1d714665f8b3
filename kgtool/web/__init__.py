"""The browser UI of ``kgtool serve``: page data (:mod:`.views`), HTML (:mod:`.pages`), a stylesheet."""
