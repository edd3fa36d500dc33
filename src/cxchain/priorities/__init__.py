"""Link 3, priorities: opportunities sized in contacts, minutes, money and customer impact; a plan per cycle."""
