"""Personal data: what the household is told on the questionnaire's first screen (the notice,
editable per province)."""
