package org.llmkit.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.time.LocalDate;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

/**
 * Real chat templates render byte for byte as transformers renders them. The expected files under
 * src/test/resources/templates were produced by gen_expected.py there, which configures Jinja2
 * 3.1.6 exactly as transformers' chat_template_utils does.
 */
class ChatTemplateTest {

    private static final JsonNode INPUTS = readInputs();
    private static final Map<String, String> SPECIAL = specialTokens();
    private static final List<ChatMessage> CONVERSATION = conversation();

    private static JsonNode readInputs() {
        try {
            return Fixtures.JSON.readTree(Fixtures.resource("templates/inputs.json"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, String> specialTokens() {
        Map<String, String> special = new LinkedHashMap<>();
        INPUTS.get("special").properties().forEach(e -> special.put(e.getKey(), e.getValue().textValue()));
        return special;
    }

    private static List<ChatMessage> conversation() {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : INPUTS.get("messages")) {
            messages.add(ChatMessage.of(m.get("role").textValue(), m.get("content").textValue()));
        }
        return messages;
    }

    private static List<Object> tools() {
        return Fixtures.JSON.convertValue(INPUTS.get("tools"), new TypeReference<List<Object>>() {});
    }

    private static String render(String templateFile, Map<String, ?> variables) {
        ChatTemplate template = new ChatTemplate(Fixtures.resource("templates/" + templateFile), templateFile);
        return template.render(CONVERSATION, true, SPECIAL, variables);
    }

    private static String render(String source, List<ChatMessage> messages) {
        return new ChatTemplate(source, "inline").render(messages, true, SPECIAL, Map.of());
    }

    @Test
    void llama31StyleTemplateRendersHeadersTrimAndGenerationPrompt() {
        String llama31 =
                """
                {{- bos_token }}
                {%- if messages[0]['role'] == 'system' %}
                    {%- set system_message = messages[0]['content'] | trim %}
                    {%- set messages = messages[1:] %}
                {%- else %}
                    {%- set system_message = "" %}
                {%- endif %}
                {{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
                {{- system_message }}
                {{- "<|eot_id|>" }}
                {%- for message in messages %}
                    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
                {%- endfor %}
                {%- if add_generation_prompt %}
                    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
                {%- endif %}
                """;
        List<ChatMessage> messages =
                List.of(ChatMessage.system("  Be brief. \n"), ChatMessage.user("\tHi there!  "));
        assertThat(render(llama31, messages))
                .isEqualTo(
                        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                                + "<|start_header_id|>user<|end_header_id|>\n\nHi there!<|eot_id|>"
                                + "<|start_header_id|>assistant<|end_header_id|>\n\n");
        ChatTemplate template = new ChatTemplate(llama31, "inline");
        assertThat(template.render(messages, false, SPECIAL, Map.of())).endsWith("Hi there!<|eot_id|>");
    }

    @Test
    void verbatimLlama31TemplateMatchesJinja2() {
        assertThat(render("llama31.jinja", Map.of())).isEqualTo(Fixtures.resource("templates/llama31.expected.txt"));
    }

    @Test
    void verbatimLlama31TemplateWithToolsMatchesJinja2IncludingIndentedTojson() {
        Map<String, Object> variables = Map.of("tools", tools(), "date_string", "01 Jan 2025");
        assertThat(render("llama31.jinja", variables))
                .isEqualTo(Fixtures.resource("templates/llama31_tools.expected.txt"));
    }

    @Test
    void verbatimQwen2TemplateMatchesJinja2() {
        assertThat(render("qwen2.jinja", Map.of())).isEqualTo(Fixtures.resource("templates/qwen2.expected.txt"));
    }

    @Test
    void verbatimQwen25TemplateMatchesJinja2() {
        assertThat(render("qwen25.jinja", Map.of())).isEqualTo(Fixtures.resource("templates/qwen25.expected.txt"));
    }

    @Test
    void verbatimQwen25TemplateWithToolsMatchesJinja2IncludingPythonStyleTojson() {
        assertThat(render("qwen25.jinja", Map.of("tools", tools())))
                .isEqualTo(Fixtures.resource("templates/qwen25_tools.expected.txt"));
    }

    @Test
    void namespaceAndPythonStringMethodsMatchJinja2() {
        assertThat(render("alternating.jinja", Map.of()))
                .isEqualTo(Fixtures.resource("templates/alternating.expected.txt"));
    }

    @Test
    void raiseExceptionFromAVerbatimTemplateCarriesItsMessage() {
        List<ChatMessage> twoUsers = List.of(ChatMessage.user("a"), ChatMessage.user("b"));
        ChatTemplate template = new ChatTemplate(Fixtures.resource("templates/alternating.jinja"), "alternating.jinja");
        assertThatThrownBy(() -> template.render(twoUsers, true, SPECIAL, Map.of()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Conversation roles must alternate user/assistant/user/assistant/...")
                .hasMessageContaining("alternating.jinja");
    }

    @Test
    void whitespaceControlOnExpressionsAndCommentsFollowsJinja2() {
        List<ChatMessage> none = List.of(ChatMessage.user("u"));
        assertThat(render("a  {{- 'x' }}  b", none)).isEqualTo("ax  b");
        assertThat(render("a  {{ 'x' -}}  b", none)).isEqualTo("a  xb");
        assertThat(render("a\n  {{- 'x' -}}\n  b", none)).isEqualTo("axb");
        assertThat(render("x {#- c -#} y", none)).isEqualTo("xy");
        assertThat(render("{% for m in messages %}\n  {{- m.role }}\n{% endfor %}", none)).isEqualTo("user\n");
    }

    @Test
    void notBindsLooserThanIsTestsLikeJinja2() {
        List<ChatMessage> none = List.of(ChatMessage.user("u"));
        ChatTemplate template =
                new ChatTemplate(
                        "{% if not tools is defined %}{% set tools = none %}{% endif %}"
                                + "{{ 'none' if tools is none else tools | length }}|"
                                + "{{ 'yes' if not messages is defined else 'no' }}",
                        "inline");
        assertThat(template.render(none, false, SPECIAL, Map.of())).isEqualTo("none|no");
        assertThat(template.render(none, false, SPECIAL, Map.of("tools", List.of("a", "b")))).isEqualTo("2|no");
    }

    @Test
    void singleTrailingNewlineOfTheTemplateIsDroppedLikeJinja2() {
        List<ChatMessage> none = List.of(ChatMessage.user("u"));
        assertThat(render("a\n", none)).isEqualTo("a");
        assertThat(render("a\n\n", none)).isEqualTo("a\n");
        assertThat(render("a\r\nb\r\n", none)).isEqualTo("a\nb");
    }

    @Test
    void pythonStringMethodsBehaveLikePython() {
        List<ChatMessage> none = List.of(ChatMessage.user("  a  b\u00a0"));
        String c = "messages[0].content";
        assertThat(render("[{{ " + c + ".strip() }}]", none)).isEqualTo("[a  b]");
        assertThat(render("[{{ " + c + ".lstrip() }}][{{ " + c + ".rstrip() }}]", none))
                .isEqualTo("[a  b\u00a0][  a  b]");
        assertThat(render("{{ " + c + ".split() | join('|') }}", none)).isEqualTo("a|b");
        assertThat(render("{{ 'a.b.c'.split('.') | join('|') }}", none)).isEqualTo("a|b|c");
        assertThat(render("{{ 'a.b.c'.split('.', 1)[-1] }}", none)).isEqualTo("b.c");
        assertThat(render("{{ 'xxhixx'.strip('x') }}", none)).isEqualTo("hi");
        assertThat(render("{{ 'Hello'.startswith('He') }}{{ 'Hello'.endswith(['x', 'lo']) }}", none))
                .isEqualTo("truetrue");
        assertThat(render("{{ 'hello world'.title() }}|{{ 'abc'.upper() }}|{{ 'ABC'.lower() }}", none))
                .isEqualTo("Hello World|ABC|abc");
        assertThat(render("{{ ', '.join(['a', 'b']) }}|{{ 'aaa'.replace('a', 'b', 2) }}", none)).isEqualTo("a, b|bba");
        assertThat(render("[{{ '  x ' | trim }}]", none)).isEqualTo("[x]");
    }

    @Test
    void strftimeNowFormatsTheCurrentDateWithPythonDirectives() {
        String rendered = render("{{ strftime_now('%d %b %Y') }}", List.of(ChatMessage.user("u")));
        LocalDate today = LocalDate.now();
        DateTimeFormatter python = DateTimeFormatter.ofPattern("dd MMM yyyy", Locale.ENGLISH);
        assertThat(rendered).isIn(python.format(today), python.format(today.minusDays(1)));
    }

    @Test
    void tojsonWritesLikePythonJsonDumps() {
        PyJson compact = new PyJson(-1, null, false, false);
        Map<String, Object> value = new LinkedHashMap<>();
        value.put("b", List.of(1, 2.5, 1e20, 1e-7, true));
        value.put("a", null);
        value.put("s", "é\"\\\n\u0001");
        assertThat(compact.dumps(value))
                .isEqualTo("{\"b\": [1, 2.5, 1e+20, 1e-07, true], \"a\": null, \"s\": \"é\\\"\\\\\\n\\u0001\"}");
        assertThat(new PyJson(2, null, true, true).dumps(value))
                .isEqualTo("{\n  \"a\": null,\n  \"b\": [\n    1,\n    2.5,\n    1e+20,\n    1e-07,\n    true\n  ],\n"
                        + "  \"s\": \"\\u00e9\\\"\\\\\\n\\u0001\"\n}");
        assertThat(new PyJson(-1, List.of(",", ":"), false, false).dumps(Map.of("k", List.of())))
                .isEqualTo("{\"k\":[]}");
        assertThat(compact.dumps(List.of(10000000.0, 0.0001, 1e16, 123.0))).isEqualTo("[10000000.0, 0.0001, 1e+16, 123.0]");
    }
}
