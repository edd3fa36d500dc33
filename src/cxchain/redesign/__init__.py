"""Link 4, coordinated redesign: initiatives, business areas, owners, tasks, target metrics; the ops store."""
