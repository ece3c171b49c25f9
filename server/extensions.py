"""Unbound extension singletons, bound to an application in :func:`server.create_app`."""

from flask_sqlalchemy import SQLAlchemy

from server.db import Base

db = SQLAlchemy(model_class=Base)
