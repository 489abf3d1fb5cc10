"""Passes: when each satellite is above each station's mask, and its QKD window.

``finder``  ``find_passes(propagator, stations, duration_s, constraints)``: every pass and
            its window, for many satellites and stations at once
``table``   ``PassTable``: the result, one row per pass, as numpy columns
"""
