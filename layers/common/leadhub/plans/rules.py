"""Seed 004's rules for one plan row, and its Russian messages, verbatim where the seed prints one.

Source: calltouch.ru/support/api-metod-importa-planovykh-metrik («Импорт плановых метрик»). Leadhub
checks the same rules before anything is sent, so a user learns every problem at once instead of
one rejected chunk at a time; Calltouch's own answer is still mapped back to rows (`plans.job`).
"""

from __future__ import annotations

# --- the seed's messages, verbatim -------------------------------------------------------------
MSG_SLICE_REQUIRED = "Должно быть заполнено одно или несколько из полей: source, medium, campaign, content, keyword"
MSG_BLANK = "Значение не должно быть пустым."
MSG_NOT_ALLOWED = "Значение не совпадает с одним из допустимых."
MSG_TOO_FEW_ITEMS = "Эта коллекция должна содержать 1 элемент или больше."
MSG_BAD_DATE = "Значение не является правильной датой."
MSG_DATE_ORDER = "Значение dateFrom должно быть меньше или равно dateTo"
MSG_MISSING_FIELD = 'В запросе не указано обязательное поле "{field}"'
MSG_CUSTOM_NOT_UNIQUE = "Название пользовательского столбца не уникально, импорт невозможен."
# --- where the seed prints none: the wording of the same validator family (Symfony, Russian) ---
MSG_WRONG_TYPE = "Тип значения должен быть {type}."
MSG_NOT_AN_OBJECT = "Значение должно быть объектом."

DATE_LAYOUT = "%d-%m-%Y"
DATE_PATTERN = r"\d{2}-\d{2}-\d{4}"
SLICE_FIELDS = ("source", "medium", "campaign", "content", "keyword")

CUSTOM_COLUMNS = "Пользовательские"
GOALS = "Цели"
#: Types whose names are the project's own custom columns and goals, not a fixed list.
FREE_NAME_TYPES = (CUSTOM_COLUMNS, GOALS)

#: Seed 004's metric types, in its order, with their names (free-name types: empty).
METRIC_NAMES: dict[str, tuple[str, ...]] = {
    "Лиды": (
        "Все лиды",
        "Уникальные лиды",
        "Неудачные лиды",
        "Целевые лиды",
        "Уникально-целевые лиды",
        "Все звонки",
        "Уникальные звонки",
        "Повторные звонки",
        "Целевые звонки",
        "Уникально-целевые звонки",
        "Неудачные звонки",
        "Спам-звонки",
        "Все обратные звонки",
        "Уникальные обратные звонки",
        "Целевые обратные звонки",
        "Уникально-целевые обратные звонки",
        "Неудачные обратные звонки",
        "Спам-обратные звонки",
        "Все заявки",
        "Уникальные заявки",
        "Повторные заявки",
        "Неудачные заявки",
        "Целевые заявки",
        "Уникально-целевые заявки",
    ),
    "Поведение": ("Сессии", "Отказы"),
    "Сделки и ROI": ("Всего сделок", "Средний чек", "Выручка"),
    "Электронная торговля": (
        "Просмотры товаров",
        "Добавлен в корзину",
        "Выручка по добавленным в корзину",
        "Маржа по добавленным в корзину",
        "Удалён из корзины",
        "Выручка по удалённым из корзины",
        "Маржа по удалённым из корзины",
        "Товаров в корзине",
        "Выручка по корзине",
        "Маржа по корзине",
        "Заказ оформлен",
        "Количество заказанных товаров",
        "Выручка по заказам",
        "Маржа по заказам",
        "Оплата",
        "Количество оплаченных товаров",
        "Выручка по оплатам",
        "Маржа по оплатам",
    ),
    "Площадки": ("Бюджет", "Показы", "Клики", "CPC"),
    CUSTOM_COLUMNS: (),
    GOALS: (),
}
METRIC_TYPES = tuple(METRIC_NAMES)
#: Seed 004: custom column and goal names must not be any Calltouch metric's name.
CALLTOUCH_METRIC_NAMES = frozenset(name for names in METRIC_NAMES.values() for name in names)
