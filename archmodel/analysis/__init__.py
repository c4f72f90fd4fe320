"""Analysis of a cascade: operation counts, footprints, traffic bounds, intensity, pass bounds."""

from .contraction import ContractionShape, contraction_shape
from .passes import RankPasses, rank_passes
from .report import Analysis, EinsumStats, analyze

__all__ = ["Analysis", "ContractionShape", "EinsumStats", "RankPasses", "analyze", "contraction_shape",
           "rank_passes"]
