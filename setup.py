"""aksproxy: validated AKS HTTP proxy configuration for the Azure CLI."""
import re
from pathlib import Path

from setuptools import find_packages, setup

# The version is written once, in azext_aksproxy/_version.py; read as text so building never imports the package.
VERSION = re.search(r'^VERSION = "([^"]+)"$', Path(__file__).with_name("azext_aksproxy").joinpath("_version.py")
                    .read_text(encoding="utf-8"), re.MULTILINE).group(1)

setup(
    name="aksproxy",
    version=VERSION,
    description="Validated HTTP proxy configuration for az aks create/update, and the az aks http-proxy commands.",
    long_description=Path(__file__).with_name("README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="MIT",
    author="aksproxy developers",
    url="https://github.com/aksproxy/aksproxy",
    classifiers=[
        "Development Status :: 4 - Beta",
        "Programming Language :: Python :: 3",
        "License :: OSI Approved :: MIT License",
    ],
    packages=find_packages(include=["azext_aksproxy", "azext_aksproxy.*"]),
    package_data={"azext_aksproxy": ["azext_metadata.json", "config/schema.json"]},
    # az ships cryptography and jsonschema's dependencies differ by az version: declare what we import.
    install_requires=["jsonschema>=4.0"],
    # az runs on 3.10 too, but aksproxy is tested on 3.11+ only (README, "Tested range").
    python_requires=">=3.11",
)
