"""Link 5, the continuous cycle: measuring the impact of a change (ITS, DiD, XmR)."""
