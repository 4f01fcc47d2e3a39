"""Samples into batches, and the model with its loss inside: what training and test-time fine-tuning share.

Kept apart from the trainer so that solving can fine-tune without importing it (and with it
torch.distributed and the run machinery).
"""

from __future__ import annotations

import torch

from arc24.data.prompts import IGNORE_INDEX
from arc24.training.loss import model_forward_with_loss


def collate(samples, pad_id: int) -> dict[str, torch.Tensor]:
    """Right-padded input_ids, labels (IGNORE_INDEX on padding) and attention_mask of a list of samples."""
    width = max(len(s.input_ids) for s in samples)
    ids = torch.full((len(samples), width), pad_id, dtype=torch.long)
    labels = torch.full((len(samples), width), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(samples), width), dtype=torch.long)
    for row, s in enumerate(samples):
        n = len(s.input_ids)
        ids[row, :n] = torch.tensor(s.input_ids)
        labels[row, :n] = torch.tensor(s.labels)
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


class LossModel(torch.nn.Module):
    """The causal LM with its loss inside forward, so DDP sees (and syncs) the whole computation."""

    def __init__(self, lm, loss_impl: str, chunk_size: int):
        super().__init__()
        self.lm = lm
        self.loss_impl = loss_impl
        self.chunk_size = chunk_size

    def forward(self, input_ids, labels, attention_mask):
        return model_forward_with_loss(self.lm, input_ids, labels, attention_mask=attention_mask,
                                       impl=self.loss_impl, chunk_size=self.chunk_size)
