"""The map of a commune's households from the GPS point of their questionnaires
(``/xa/ban-do``): Leaflet served from this site, map tiles only from a configured URL, and a plain
coordinate plot when there are none."""
