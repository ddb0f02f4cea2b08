package org.llmkit.serve;

import com.fasterxml.jackson.databind.JsonNode;

/** Typed reads of optional JSON fields; a present value of the wrong type is a 400 naming the field. */
final class Fields {
    private Fields() { }

    /** @return the number, or null when absent or null */
    static Double number(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw ApiException.badRequest(field, "Invalid type for '" + field + "': expected a number, but got "
                    + v.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + ".");
        }
        return v.asDouble();
    }

    /** @return the integer, or null when absent or null */
    static Long integer(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToLong()) {
            throw ApiException.badRequest(field, "Invalid type for '" + field + "': expected an integer, but got "
                    + v + ".");
        }
        return v.asLong();
    }

    /** @return the boolean, or null when absent or null */
    static Boolean bool(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            throw ApiException.badRequest(field, "Invalid type for '" + field + "': expected a boolean, but got "
                    + v + ".");
        }
        return v.asBoolean();
    }
}
