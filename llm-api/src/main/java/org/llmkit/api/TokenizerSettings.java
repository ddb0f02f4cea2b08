package org.llmkit.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a tokenizer folder says beside {@code tokenizer.json}: the special tokens of
 * {@code tokenizer_config.json} (falling back to {@code special_tokens_map.json}), whether decoding
 * cleans up tokenization spaces, and the chat templates ({@code chat_template.jinja}, else
 * {@code tokenizer_config.json}'s {@code chat_template}, a string or a list of {@code {name, template}}).
 */
final class TokenizerSettings {

    /** The special-token fields transformers exposes to chat templates, in its order. */
    static final List<String> SPECIAL_TOKEN_FIELDS =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    /** The name transformers uses when a tokenizer has several chat templates. */
    static final String DEFAULT_TEMPLATE = "default";

    static final String CONFIG_FILE = "tokenizer_config.json";
    static final String SPECIAL_TOKENS_FILE = "special_tokens_map.json";
    static final String TEMPLATE_FILE = "chat_template.jinja";

    private final Map<String, String> specialTokens;
    private final boolean cleanUpTokenizationSpaces;
    private final Map<String, ChatTemplate> templates;

    private TokenizerSettings(
            Map<String, String> specialTokens,
            boolean cleanUpTokenizationSpaces,
            Map<String, ChatTemplate> templates) {
        this.specialTokens = Collections.unmodifiableMap(specialTokens);
        this.cleanUpTokenizationSpaces = cleanUpTokenizationSpaces;
        this.templates = Collections.unmodifiableMap(templates);
    }

    /**
     * Reads the optional files of a tokenizer folder; absent files contribute nothing.
     *
     * @param folder the folder holding {@code tokenizer.json}
     * @param mapper the JSON reader
     * @return the settings
     * @throws IOException when a present file cannot be read or is not what transformers writes
     */
    static TokenizerSettings read(Path folder, ObjectMapper mapper) throws IOException {
        Path configFile = folder.resolve(CONFIG_FILE);
        JsonNode config = readJson(configFile, mapper);
        JsonNode specialMap = readJson(folder.resolve(SPECIAL_TOKENS_FILE), mapper);

        Map<String, String> special = new LinkedHashMap<>();
        for (String field : SPECIAL_TOKEN_FIELDS) {
            String value = tokenString(config, field, configFile);
            if (value == null) {
                value = tokenString(specialMap, field, folder.resolve(SPECIAL_TOKENS_FILE));
            }
            if (value != null) {
                special.put(field, value);
            }
        }

        JsonNode cleanUp = config == null ? null : config.get("clean_up_tokenization_spaces");
        if (cleanUp != null && !cleanUp.isBoolean() && !cleanUp.isNull()) {
            throw new IOException(
                    configFile + ": clean_up_tokenization_spaces should be true or false, got " + cleanUp);
        }
        boolean cleanUpSpaces = cleanUp != null && cleanUp.booleanValue();

        Map<String, ChatTemplate> templates = new LinkedHashMap<>();
        Path templateFile = folder.resolve(TEMPLATE_FILE);
        if (Files.isRegularFile(templateFile)) {
            templates.put(
                    DEFAULT_TEMPLATE,
                    new ChatTemplate(Files.readString(templateFile, StandardCharsets.UTF_8), templateFile.toString()));
        } else if (config != null) {
            readConfigTemplates(config, configFile, templates);
        }
        return new TokenizerSettings(special, cleanUpSpaces, templates);
    }

    private static void readConfigTemplates(
            JsonNode config, Path configFile, Map<String, ChatTemplate> templates) throws IOException {
        JsonNode node = config.get("chat_template");
        if (node == null || node.isNull()) {
            return;
        }
        if (node.isTextual()) {
            templates.put(DEFAULT_TEMPLATE, new ChatTemplate(node.textValue(), configFile + " (chat_template)"));
            return;
        }
        if (!node.isArray()) {
            throw new IOException(
                    configFile + ": chat_template should be a string or a list of {\"name\", \"template\"}, got "
                            + node.getNodeType());
        }
        for (int i = 0; i < node.size(); i++) {
            JsonNode entry = node.get(i);
            JsonNode name = entry.get("name");
            JsonNode template = entry.get("template");
            if (name == null || !name.isTextual() || template == null || !template.isTextual()) {
                throw new IOException(
                        configFile + ": chat_template[" + i + "] should be {\"name\": string, \"template\": string}, got "
                                + entry);
            }
            templates.put(
                    name.textValue(),
                    new ChatTemplate(
                            template.textValue(),
                            configFile + " (chat_template \"" + name.textValue() + "\")"));
        }
    }

    private static JsonNode readJson(Path file, ObjectMapper mapper) throws IOException {
        if (!Files.isRegularFile(file)) {
            return null;
        }
        JsonNode node;
        try {
            node = mapper.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new IOException(file + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (node == null || !node.isObject()) {
            throw new IOException(file + ": expected a JSON object at the top level");
        }
        return node;
    }

    private static String tokenString(JsonNode json, String field, Path file) throws IOException {
        if (json == null) {
            return null;
        }
        JsonNode value = json.get(field);
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isTextual()) {
            return value.textValue();
        }
        if (value.isObject() && value.path("content").isTextual()) {
            return value.get("content").textValue();
        }
        throw new IOException(
                file + ": " + field + " should be a string or an object with a string \"content\", got " + value);
    }

    /**
     * Returns the special tokens by field name ({@code bos_token}, ...), only those defined.
     *
     * @return an unmodifiable map in transformers' field order
     */
    Map<String, String> specialTokens() {
        return specialTokens;
    }

    /**
     * Returns whether {@code decode} should apply transformers' {@code clean_up_tokenization}.
     *
     * @return the {@code clean_up_tokenization_spaces} flag, false when absent
     */
    boolean cleanUpTokenizationSpaces() {
        return cleanUpTokenizationSpaces;
    }

    /**
     * Returns the chat templates by name; a single template is named {@value #DEFAULT_TEMPLATE}.
     *
     * @return an unmodifiable map
     */
    Map<String, ChatTemplate> templates() {
        return templates;
    }
}
