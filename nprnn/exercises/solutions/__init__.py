"""The solutions of the exercises, one file each, exactly as `nprnn exercise start NAME
--solution` writes them. A skeleton is its solution with the bodies of the functions the learner
writes replaced by ``raise NotImplementedError`` (see registry.skeleton_text)."""
