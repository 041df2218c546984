"""Terminal formatting shared by the commands: numbers as the tables print them, the rich
console and tables the results go to, and the live progress bar of a load."""
