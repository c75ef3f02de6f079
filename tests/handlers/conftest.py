import pytest

from bot.dispatcher import Bot
from handlers import build_router
from tests.harness import Chat


@pytest.fixture
def chat(services) -> Chat:
    return Chat(Bot(build_router(), services))
