#include "interactive_parts.hpp"

namespace wagate::domain::send_validation {

Status validate_product_sections(const ArrayReader& sections) {
    if (auto ok = sections.check_size(1, 10, "section", "sections"); !ok) {
        return ok;
    }
    std::size_t total = 0;
    for (std::size_t i = 0; i < sections.size(); ++i) {
        auto section = sections.object_at(i);
        if (!section) {
            return section.error();
        }
        if (auto ok = section->allow_only({"title", "product_items"}); !ok) {
            return ok;
        }
        if (auto title = section->required_string("title", {.max_chars = 24}); !title) {
            return title.error();
        }
        auto items = section->required_array("product_items");
        if (!items) {
            return items.error();
        }
        if (items->size() == 0) {
            return invalid_error(items->path(), "at least 1 product");
        }
        for (std::size_t k = 0; k < items->size(); ++k) {
            if (++total > 30) {
                return invalid_error(items->path_at(k), "at most 30 products in total");
            }
            auto item = items->object_at(k);
            if (!item) {
                return item.error();
            }
            if (auto ok = item->allow_only({"product_retailer_id"}); !ok) {
                return ok;
            }
            if (auto id = item->required_string("product_retailer_id"); !id) {
                return id.error();
            }
        }
    }
    return {};
}

Status validate_product_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"catalog_id", "product_retailer_id"}); !ok) {
        return ok;
    }
    if (auto catalog = action.required_string("catalog_id"); !catalog) {
        return catalog.error();
    }
    return status_of(action.required_string("product_retailer_id"));
}

Status validate_product_list_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"catalog_id", "sections"}); !ok) {
        return ok;
    }
    if (auto catalog = action.required_string("catalog_id"); !catalog) {
        return catalog.error();
    }
    auto sections = action.required_array("sections");
    if (!sections) {
        return sections.error();
    }
    return validate_product_sections(*sections);
}

Status validate_catalog_action(const ObjectReader& action) {
    if (auto ok = action.allow_only({"name", "parameters"}); !ok) {
        return ok;
    }
    if (auto name = action.required_enum("name", {"catalog_message"}); !name) {
        return name.error();
    }
    auto parameters = action.optional_object("parameters");
    if (!parameters || !*parameters) {
        return status_of(parameters);
    }
    if (auto ok = (*parameters)->allow_only({"thumbnail_product_retailer_id"}); !ok) {
        return ok;
    }
    // Optional for Meta's page, but the OAS requires it whenever `parameters` is sent.
    return status_of((*parameters)->required_string("thumbnail_product_retailer_id"));
}

}  // namespace wagate::domain::send_validation
