#include <algorithm>
#include <optional>
#include <set>
#include <vector>

#include "interactive_parts.hpp"

namespace wagate::domain::send_validation {
namespace {

// What must match across cards: Meta requires the same button type and count on every card.
struct CardShape {
    std::string buttons;  // "cta_url", "quick_reply" or "product"
    std::size_t count = 0;
};

Status validate_card_header(const ObjectReader& card) {
    auto header = card.required_object("header");
    if (!header) {
        return header.error();
    }
    auto type = header->required_enum("type", {"text", "image", "video", "document"});
    if (!type) {
        return type.error();
    }
    if (*type != "image" && *type != "video") {
        return invalid_error(header->path_of("type"), "a card header must be image or video");
    }
    if (auto ok = header->allow_only(std::vector<std::string_view>{"type", *type}); !ok) {
        return ok;
    }
    auto media = header->required_object(*type);
    if (!media) {
        return media.error();
    }
    if (auto ok = media->allow_only({"id", "link"}); !ok) {
        return ok;
    }
    return validate_media_source(*media);
}

Status validate_card_body(const ObjectReader& card) {
    auto body = card.optional_object("body");
    if (!body || !*body) {
        return status_of(body);
    }
    if (auto ok = validate_text_part(**body, 160); !ok) {
        return ok;
    }
    const auto& text = (*body)->json()["text"].get_ref<const std::string&>();
    if (std::count(text.begin(), text.end(), '\n') > 2) {
        return invalid_error((*body)->path_of("text"), "at most 2 line breaks");
    }
    return {};
}

ApiResult<std::size_t> validate_quick_replies(const ObjectReader& action) {
    if (auto ok = action.allow_only({"buttons"}); !ok) {
        return ok.error();
    }
    auto buttons = action.required_array("buttons", 1, 2, "quick-reply button", "quick-reply buttons per card");
    if (!buttons) {
        return buttons.error();
    }
    UniqueValues ids("button id");
    UniqueValues titles("button title");
    for (std::size_t i = 0; i < buttons->size(); ++i) {
        auto button = buttons->object_at(i);
        if (!button) {
            return button.error();
        }
        if (auto ok = button->allow_only({"type", "quick_reply"}); !ok) {
            return ok.error();
        }
        if (auto type = button->required_enum("type", {"quick_reply"}); !type) {
            return type.error();
        }
        auto reply = button->required_object("quick_reply");
        if (!reply) {
            return reply.error();
        }
        if (auto ok = reply->allow_only({"id", "title"}); !ok) {
            return ok.error();
        }
        auto id = reply->required_string("id", {.max_chars = 20});
        if (!id) {
            return id.error();
        }
        if (auto ok = ids.add(reply->path_of("id"), *id); !ok) {
            return ok.error();
        }
        auto title = reply->required_string("title", {.max_chars = 20});
        if (!title) {
            return title.error();
        }
        if (auto ok = titles.add(reply->path_of("title"), *title); !ok) {
            return ok.error();
        }
    }
    return ApiResult<std::size_t>(boost::system::in_place_value, buttons->size());
}

ApiResult<CardShape> validate_media_card(const ObjectReader& card) {
    if (auto ok = card.allow_only({"card_index", "type", "header", "body", "action"}); !ok) {
        return ok.error();
    }
    if (auto ok = validate_card_header(card); !ok) {
        return ok.error();
    }
    if (auto ok = validate_card_body(card); !ok) {
        return ok.error();
    }
    auto action = card.required_object("action");
    if (!action) {
        return action.error();
    }
    // Same card type either way: the action decides between one URL button and quick replies.
    if (action->has("buttons")) {
        auto count = validate_quick_replies(*action);
        if (!count) {
            return count.error();
        }
        return CardShape{"quick_reply", *count};
    }
    if (auto ok = validate_cta_url_action(*action); !ok) {
        return ok.error();
    }
    return CardShape{"cta_url", 1};
}

ApiResult<CardShape> validate_product_card(const ObjectReader& card,
                                           std::optional<std::string>& catalog_id) {
    if (auto ok = card.allow_only({"card_index", "type", "action"}); !ok) {
        return ok.error();
    }
    auto action = card.required_object("action");
    if (!action) {
        return action.error();
    }
    if (auto ok = action->allow_only({"product_retailer_id", "catalog_id"}); !ok) {
        return ok.error();
    }
    if (auto product = action->required_string("product_retailer_id"); !product) {
        return product.error();
    }
    auto catalog = action->required_string("catalog_id");
    if (!catalog) {
        return catalog.error();
    }
    if (catalog_id && *catalog_id != *catalog) {
        return invalid_error(action->path_of("catalog_id"),
                             "every card must use the same catalog_id");
    }
    catalog_id = *catalog;
    return CardShape{"product", 1};
}

}  // namespace

Status validate_carousel_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"cards"}); !ok) {
        return ok;
    }
    auto cards = action.required_array("cards", 2, 10, "card", "cards");
    if (!cards) {
        return cards.error();
    }
    std::set<int> indices;
    std::optional<std::string> first_type;
    std::optional<CardShape> first_shape;
    std::optional<std::string> catalog_id;
    for (std::size_t i = 0; i < cards->size(); ++i) {
        auto card = cards->object_at(i);
        if (!card) {
            return card.error();
        }
        if (auto index = read_unique_index(*card, "card_index", 9, indices); !index) {
            return index.error();
        }
        auto type = card->required_enum("type", {"cta_url", "product"});
        if (!type) {
            return type.error();
        }
        if (first_type && *first_type != *type) {
            return invalid_error(card->path_of("type"), "every card must have the same type");
        }
        first_type = *type;
        auto shape = *type == "product" ? validate_product_card(*card, catalog_id)
                                        : validate_media_card(*card);
        if (!shape) {
            return shape.error();
        }
        if (first_shape &&
            (first_shape->buttons != shape->buttons || first_shape->count != shape->count)) {
            return invalid_error(card->path_of("action"),
                                 "every card must have the same button type and count");
        }
        first_shape = *shape;
    }
    return {};
}

}  // namespace wagate::domain::send_validation
