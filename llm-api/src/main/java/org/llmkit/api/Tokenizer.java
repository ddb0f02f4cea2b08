package org.llmkit.api;

import ai.djl.engine.EngineException;
import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A HuggingFace tokenizer loaded from a checkpoint folder: the fast (Rust) tokenizer of
 * {@code tokenizer.json} through DJL, the special tokens of {@code tokenizer_config.json}, and its
 * chat template. Encoding and decoding give what transformers gives for the same folder, with two
 * deliberate defaults: {@link #encode(String)} adds no special tokens (transformers'
 * {@code add_special_tokens=False}), and nothing is ever truncated or padded.
 *
 * <p>Instances are safe for concurrent use. They hold native memory: {@link #close()} them.
 */
public final class Tokenizer implements AutoCloseable {

    /** The file name of a fast tokenizer. */
    public static final String TOKENIZER_FILE = "tokenizer.json";

    private static final ObjectMapper MAPPER = new ObjectMapper();

    /*
     * DJL defaults truncate to 512 tokens (only logging a warning) and pad with id 0: both off.
     * Special tokens are chosen per call.
     */
    private static final Map<String, String> DJL_OPTIONS =
            Map.of(
                    "addSpecialTokens", "false",
                    "truncation", "false",
                    "padding", "false",
                    "withOverflowingTokens", "false");

    private final Path folder;
    private final HuggingFaceTokenizer tokenizer;
    private final Vocabulary vocabulary;
    private final TokenizerSettings settings;
    private final AtomicBoolean closed = new AtomicBoolean();

    private Tokenizer(
            Path folder, HuggingFaceTokenizer tokenizer, Vocabulary vocabulary, TokenizerSettings settings) {
        this.folder = folder;
        this.tokenizer = tokenizer;
        this.vocabulary = vocabulary;
        this.settings = settings;
    }

    /**
     * Loads a tokenizer.
     *
     * @param folderOrTokenizerJson a folder holding {@code tokenizer.json} (and optionally
     *     {@code tokenizer_config.json}, {@code special_tokens_map.json}, {@code chat_template.jinja}),
     *     or a {@code tokenizer.json} file, beside which those optional files are looked for
     * @return the tokenizer; close it when done
     * @throws NoSuchFileException when the path or the folder's {@code tokenizer.json} does not exist
     * @throws IOException when a file cannot be read or is not what transformers writes
     */
    public static Tokenizer load(Path folderOrTokenizerJson) throws IOException {
        Objects.requireNonNull(folderOrTokenizerJson, "folderOrTokenizerJson must not be null");
        Path path = folderOrTokenizerJson.toAbsolutePath().normalize();
        Path folder;
        Path json;
        if (Files.isDirectory(path)) {
            folder = path;
            json = path.resolve(TOKENIZER_FILE);
            if (!Files.isRegularFile(json)) {
                throw new NoSuchFileException(
                        json.toString(), null, "tokenizer folder " + path + " has no " + TOKENIZER_FILE);
            }
        } else if (Files.isRegularFile(path)) {
            json = path;
            folder = path.getParent();
        } else {
            throw new NoSuchFileException(
                    path.toString(),
                    null,
                    "expected a tokenizer folder containing " + TOKENIZER_FILE + ", or a " + TOKENIZER_FILE + " file");
        }

        byte[] bytes = Files.readAllBytes(json);
        JsonNode tree;
        try {
            tree = MAPPER.readTree(bytes);
        } catch (JsonProcessingException e) {
            throw new IOException(json + ": not valid JSON: " + e.getOriginalMessage(), e);
        }
        if (tree == null || !tree.isObject()) {
            throw new IOException(json + ": expected a JSON object at the top level");
        }
        Vocabulary vocabulary;
        try {
            vocabulary = Vocabulary.from(tree, json);
        } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage(), e);
        }
        TokenizerSettings settings = TokenizerSettings.read(folder, MAPPER);

        HuggingFaceTokenizer tokenizer;
        try (InputStream in = new ByteArrayInputStream(bytes)) {
            tokenizer = HuggingFaceTokenizer.newInstance(in, DJL_OPTIONS);
        } catch (EngineException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new IOException(json + ": the tokenizers library could not load it: " + e.getMessage(), e);
        }
        return new Tokenizer(folder, tokenizer, vocabulary, settings);
    }

    /**
     * Encodes text without adding special tokens (transformers' {@code add_special_tokens=False}).
     * Special tokens written in the text, such as {@code <|eot_id|>}, still become their ids.
     *
     * @param text the text; not null
     * @return the token ids, never truncated
     */
    public int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * Encodes text.
     *
     * @param text the text; not null
     * @param addSpecialTokens whether to add the special tokens that {@code tokenizer.json}'s
     *     post-processor defines (for example a leading BOS)
     * @return the token ids, never truncated
     */
    public int[] encode(String text, boolean addSpecialTokens) {
        Objects.requireNonNull(text, "text must not be null");
        ensureOpen();
        Encoding encoding = tokenizer.encode(text, addSpecialTokens, false);
        long[] ids = encoding.getIds();
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = (int) ids[i];
        }
        return out;
    }

    /**
     * Decodes ids to text, keeping special tokens (transformers' {@code decode} default).
     *
     * @param ids the token ids; not null
     * @return the text
     */
    public String decode(int[] ids) {
        return decode(ids, false);
    }

    /**
     * Decodes ids to text. Ids that name no token are skipped, as the Rust tokenizer does. When
     * {@code tokenizer_config.json} sets {@code clean_up_tokenization_spaces}, transformers'
     * clean-up (" ." to ".", " 's" to "'s", ...) is applied.
     *
     * @param ids the token ids; not null, none negative
     * @param skipSpecialTokens whether to leave special tokens out of the text
     * @return the text
     * @throws IllegalArgumentException when an id is negative
     */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        Objects.requireNonNull(ids, "ids must not be null");
        ensureOpen();
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) {
            if (ids[i] < 0) {
                throw new IllegalArgumentException("ids[" + i + "] is negative: " + ids[i]);
            }
            longs[i] = ids[i];
        }
        String text = tokenizer.decode(longs, skipSpecialTokens);
        return settings.cleanUpTokenizationSpaces() ? cleanUpTokenization(text) : text;
    }

    private static String cleanUpTokenization(String text) {
        return text.replace(" .", ".")
                .replace(" ?", "?")
                .replace(" !", "!")
                .replace(" ,", ",")
                .replace(" ' ", "'")
                .replace(" n't", "n't")
                .replace(" 'm", "'m")
                .replace(" 's", "'s")
                .replace(" 've", "'ve")
                .replace(" 're", "'re");
    }

    /**
     * Returns the number of distinct token ids, added tokens included (transformers'
     * {@code len(tokenizer)}).
     *
     * @return the vocabulary size
     */
    public int vocabSize() {
        return vocabulary.size();
    }

    /**
     * Returns the token string of an id, in the model's own spelling (byte-level BPE writes a
     * leading space as {@code Ġ}), like transformers' {@code convert_ids_to_tokens}.
     *
     * @param id the id
     * @return the token, or empty when no token has this id
     */
    public Optional<String> token(int id) {
        return vocabulary.token(id);
    }

    /**
     * Returns the id of a token string given in the model's own spelling.
     *
     * @param token the token
     * @return the id, or empty when the token is not in the vocabulary
     */
    public OptionalInt id(String token) {
        return vocabulary.id(token);
    }

    /**
     * Returns the id of {@code tokenizer_config.json}'s {@code bos_token}.
     *
     * @return the id, or empty when no BOS token is configured or it is not in the vocabulary
     */
    public OptionalInt bosTokenId() {
        return specialTokenId("bos_token");
    }

    /**
     * Returns the id of {@code tokenizer_config.json}'s {@code eos_token}.
     *
     * @return the id, or empty when no EOS token is configured or it is not in the vocabulary
     */
    public OptionalInt eosTokenId() {
        return specialTokenId("eos_token");
    }

    /**
     * Returns the id of {@code tokenizer_config.json}'s {@code pad_token}.
     *
     * @return the id, or empty when no pad token is configured or it is not in the vocabulary
     */
    public OptionalInt padTokenId() {
        return specialTokenId("pad_token");
    }

    /**
     * Returns the id of a special token named by its {@code tokenizer_config.json} field.
     *
     * @param field a field such as {@code bos_token}, {@code unk_token} or {@code mask_token}
     * @return the id, or empty when the field is not set or its token is not in the vocabulary
     */
    public OptionalInt specialTokenId(String field) {
        String token = settings.specialTokens().get(field);
        return token == null ? OptionalInt.empty() : vocabulary.id(token);
    }

    /**
     * Returns the special tokens of {@code tokenizer_config.json} (or {@code special_tokens_map.json})
     * by field name: {@code bos_token}, {@code eos_token}, {@code unk_token}, {@code sep_token},
     * {@code pad_token}, {@code cls_token}, {@code mask_token}, those that are set.
     *
     * @return an unmodifiable map from field name to token string
     */
    public Map<String, String> specialTokens() {
        return settings.specialTokens();
    }

    /**
     * Returns the source of the chat template: {@code chat_template.jinja}, else
     * {@code tokenizer_config.json}'s {@code chat_template} (the one named {@code default} when
     * it holds several).
     *
     * @return the Jinja source, or empty when the folder has no chat template
     */
    public Optional<String> chatTemplate() {
        return chatTemplate(TokenizerSettings.DEFAULT_TEMPLATE);
    }

    /**
     * Returns the source of a named chat template ({@code tokenizer_config.json}'s
     * {@code chat_template} list; a single template is named {@code default}).
     *
     * @param name the template name, for example {@code default} or {@code tool_use}
     * @return the Jinja source, or empty when there is no template of that name
     */
    public Optional<String> chatTemplate(String name) {
        ChatTemplate template = settings.templates().get(name);
        return template == null ? Optional.empty() : Optional.of(template.source());
    }

    /**
     * Renders a conversation with the chat template, as transformers'
     * {@code apply_chat_template(messages, tokenize=False, add_generation_prompt=...)} does.
     *
     * @param messages the conversation; not null
     * @param addGenerationPrompt whether to end with the header that opens an assistant turn
     * @return the prompt text
     * @throws IllegalStateException when the folder has no chat template, or the template fails
     * @throws IllegalArgumentException when the template rejects the conversation with
     *     {@code raise_exception} (the message is the template's)
     */
    public String applyChatTemplate(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return applyChatTemplate(messages, addGenerationPrompt, Map.of());
    }

    /**
     * Renders a conversation with the chat template and extra template variables, as transformers'
     * {@code apply_chat_template(..., **kwargs)} does (for example {@code date_string},
     * {@code tools}, {@code enable_thinking}).
     *
     * @param messages the conversation; not null
     * @param addGenerationPrompt whether to end with the header that opens an assistant turn
     * @param variables further variables; they override the special tokens of the same name
     * @return the prompt text
     * @throws IllegalStateException when the folder has no chat template, or the template fails
     * @throws IllegalArgumentException when the template rejects the conversation with
     *     {@code raise_exception}
     */
    public String applyChatTemplate(
            List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, ?> variables) {
        return applyChatTemplate(TokenizerSettings.DEFAULT_TEMPLATE, messages, addGenerationPrompt, variables);
    }

    /**
     * Renders a conversation with a named chat template.
     *
     * @param templateName the template name, for example {@code default} or {@code tool_use}
     * @param messages the conversation; not null
     * @param addGenerationPrompt whether to end with the header that opens an assistant turn
     * @param variables further variables; they override the special tokens of the same name
     * @return the prompt text
     * @throws IllegalStateException when there is no template of that name, or the template fails
     * @throws IllegalArgumentException when the template rejects the conversation with
     *     {@code raise_exception}
     */
    public String applyChatTemplate(
            String templateName,
            List<ChatMessage> messages,
            boolean addGenerationPrompt,
            Map<String, ?> variables) {
        Objects.requireNonNull(templateName, "templateName must not be null");
        Objects.requireNonNull(messages, "messages must not be null");
        Objects.requireNonNull(variables, "variables must not be null");
        ChatTemplate template = settings.templates().get(templateName);
        if (template == null) {
            if (settings.templates().isEmpty()) {
                throw new IllegalStateException(
                        "tokenizer folder " + folder + " has no chat template: expected "
                                + TokenizerSettings.TEMPLATE_FILE + " or a \"chat_template\" field in "
                                + TokenizerSettings.CONFIG_FILE);
            }
            throw new IllegalStateException(
                    "tokenizer folder " + folder + " has no chat template named \"" + templateName
                            + "\"; it has " + settings.templates().keySet());
        }
        return template.render(messages, addGenerationPrompt, settings.specialTokens(), variables);
    }

    /**
     * Renders a conversation with the chat template and encodes the prompt without adding special
     * tokens, as transformers' {@code apply_chat_template(..., tokenize=True)} does.
     *
     * @param messages the conversation; not null
     * @param addGenerationPrompt whether to end with the header that opens an assistant turn
     * @return the prompt's token ids
     * @throws IllegalStateException when the folder has no chat template, or the template fails
     * @throws IllegalArgumentException when the template rejects the conversation
     */
    public int[] encodeChat(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return encode(applyChatTemplate(messages, addGenerationPrompt), false);
    }

    /**
     * Returns the folder the tokenizer was loaded from (the folder of {@code tokenizer.json}).
     *
     * @return an absolute path
     */
    public Path source() {
        return folder;
    }

    /** Frees the native tokenizer. Further encoding or decoding fails; closing again does nothing. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            tokenizer.close();
        }
    }

    private void ensureOpen() {
        if (closed.get()) {
            throw new IllegalStateException("tokenizer from " + folder + " is closed");
        }
    }

    @Override
    public String toString() {
        return "Tokenizer[" + folder + ", " + vocabulary.size() + " tokens]";
    }
}
