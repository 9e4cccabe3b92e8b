#include "content.hpp"
#include "text_rules.hpp"
#include "utf8.hpp"

namespace wagate::domain::send_validation {
namespace {

Status allow_media_keys(const ObjectReader& media, std::string_view type) {
    if (type == "image" || type == "video") {
        return media.allow_only({"id", "link", "caption"});
    }
    if (type == "document") {
        return media.allow_only({"id", "link", "caption", "filename"});
    }
    if (type == "audio") {
        return media.allow_only({"id", "link", "voice"});
    }
    return media.allow_only({"id", "link"});  // sticker: Meta shows no caption on stickers
}

}  // namespace

bool is_media_type(std::string_view type) {
    return type == "image" || type == "video" || type == "audio" || type == "document" ||
           type == "sticker";
}

Status check_https_url(std::string_view path, const std::string& url) {
    if (auto ok = check_string(path, url, {.max_chars = 2000}); !ok) {
        return ok;
    }
    if (!is_https_url(url)) {
        return invalid_error(path, "must be an absolute https:// URL");
    }
    return {};
}

Status validate_captionless_media(const ObjectReader& parent, const std::string& type) {
    auto media = parent.required_object(type);
    if (!media) {
        return media.error();
    }
    if (auto ok = type == "document" ? media->allow_only({"id", "link", "filename"})
                                     : media->allow_only({"id", "link"});
        !ok) {
        return ok;
    }
    if (auto filename = media->optional_string("filename", {.max_chars = 240}); !filename) {
        return filename.error();
    }
    return validate_media_source(*media);
}

Status validate_media_source(const ObjectReader& media) {
    const bool has_id = media.has("id");
    const bool has_link = media.has("link");
    if (has_id == has_link) {
        const std::string details = media.path() + ": exactly one of id or link";
        return has_id ? api_errors::invalid_value(details) : api_errors::missing_parameter(details);
    }
    if (has_id) {
        auto id = media.required_string("id", {.max_chars = 256});
        if (!id) {
            return id.error();
        }
        if (has_space(*id)) {
            return invalid_error(media.path_of("id"), "must not contain white space");
        }
        return {};
    }
    auto link = media.required_string("link");
    if (!link) {
        return link.error();
    }
    return check_https_url(media.path_of("link"), *link);
}

Status validate_media(const ObjectReader& media, std::string_view type) {
    if (auto ok = allow_media_keys(media, type); !ok) {
        return ok;
    }
    if (auto ok = validate_media_source(media); !ok) {
        return ok;
    }
    if (auto caption = media.optional_string("caption", {.max_chars = 1024, .allow_empty = true});
        !caption) {
        return caption.error();
    }
    if (auto filename = media.optional_string("filename", {.max_chars = 240}); !filename) {
        return filename.error();
    }
    if (auto voice = media.optional_bool("voice"); !voice) {
        return voice.error();
    }
    return {};
}

}  // namespace wagate::domain::send_validation
