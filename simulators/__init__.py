"""Local HTTP simulators of the four vendor APIs.

They are written from ../shared/vendors/*.md alone and import nothing from `leadhub`: a fake that
shared the client's code would share its misreadings of the vendor docs.
"""
