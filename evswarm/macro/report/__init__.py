"""The self-contained HTML report and its plotly figures."""
