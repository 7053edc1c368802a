// The dashboard (being written).
