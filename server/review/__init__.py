"""Commune staff reviewing submissions: lists with filters, the detail page with every answer
under its label and the score explanation, review states with comments, sending a household
back for re-survey, bulk actions, and each submission's activity history."""
