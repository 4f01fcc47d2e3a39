"""Tasks, grid formats, prompts, augmentations and the training sample stream."""
