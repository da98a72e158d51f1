import click

group = click.Group("stock", help="Magasin : imports et opérations.")
