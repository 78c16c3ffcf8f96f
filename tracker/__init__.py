"""tracker: multi-object tracking by detection with appearance re-identification."""
