"""Large exports produced in the background with their progress shown to the user."""
