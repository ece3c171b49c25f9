"""The household-centred commune workspace: the commune's households for a review year
(``/xa/ho``) and one household across years (``/xa/ho/<code>``)."""
