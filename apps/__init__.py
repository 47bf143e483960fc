"""The applications: review, suggestions, library linking, drafting.

They build on the core (:mod:`kg`) and the similarity index (:mod:`embeddings`); the API
(:mod:`api`) and the command line (:mod:`ikg`) wire them together."""
