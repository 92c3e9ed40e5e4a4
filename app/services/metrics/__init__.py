"""The figures DOMAIN.md defines: persistency, the 4-sell funnel, activity, equity, coverage."""
