"""The servers the plugin runs: the built-in simulator (:mod:`.sim`) and llama.cpp
(:mod:`.llama_cpp`), with what they share in :mod:`.process` and :mod:`.launch`.

Nothing here imports a stage of the package (``config``, ``matrix``, ``measure``, ...); the stages
import the servers. Block validation comes from the base module :mod:`pytest_llmbench.validation`.
"""
