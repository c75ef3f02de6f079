"""The Teams app package: manifest template and icons, data read by ``distansmote teams package``."""
