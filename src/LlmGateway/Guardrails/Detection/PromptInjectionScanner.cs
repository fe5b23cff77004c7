using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace LlmGateway.Guardrails.Detection;

/// <summary>
/// Scores text for prompt-injection and jailbreak attempts from weighted signals: instruction-override phrases,
/// requests for the hidden prompt, role-play escapes, chat-template delimiters, and base64 payloads that decode to
/// any of these. Signals combine like independent evidence, <c>1 - Π(1 - weight)</c>, so one strong signal or
/// several weak ones cross the threshold while a single weak one ("jailbreak my phone") does not.
/// </summary>
public static partial class PromptInjectionScanner
{
    public const string Label = "INJECTION";

    // Shortest base64 run worth decoding: 24 characters carry 18 bytes, a short sentence.
    private const int MinimumEncodedLength = 24;
    private const int MaximumEncodedLength = 16 * 1024;

    /// <summary>The score of <paramref name="text"/> in [0, 1].</summary>
    public static double Score(ReadOnlySpan<char> text) => Score(text, decodePayloads: true);

    private static double Score(ReadOnlySpan<char> text, bool decodePayloads)
    {
        var innocence = 1.0;
        if (!text.ContainsAny(TriggerWords))
        {
            return decodePayloads ? 1 - EncodedPayloadInnocence(text) : 0;
        }

        foreach (var match in OverridePattern().EnumerateMatches(text))
        {
            // "disregard my earlier instructions about the font" is a user correcting themselves.
            var phrase = text.Slice(match.Index, match.Length);
            innocence *= phrase.Contains(" my ", StringComparison.OrdinalIgnoreCase) ? 0.8 : 0.1;
            break;
        }

        innocence *= Weigh(NewInstructionsPattern(), text, 0.45);
        innocence *= Weigh(PromptLeakPattern(), text, 0.3);
        innocence *= Weigh(RolePlayEscapePattern(), text, 0.15);
        innocence *= Weigh(UnboundPattern(), text, 0.4);
        innocence *= Weigh(PersonaPattern(), text, 0.35);
        innocence *= Weigh(JailbreakWordPattern(), text, 0.65);
        innocence *= Weigh(DelimiterPattern(), text, 0.4);
        innocence *= Weigh(DecodeAndObeyPattern(), text, 0.5);

        if (decodePayloads && innocence > 0.1)
        {
            innocence *= EncodedPayloadInnocence(text);
        }

        return 1 - innocence;
    }

    // Every signal below needs one of these words; text without any of them skips the patterns. The persona names
    // keep the space the pattern puts before them ("as DAN", "you are STAN"), and "act" the word after it: bare "stan",
    // "dan", "aim" and "act " are inside everyday words ("assistant", "guidance", "claim", "exact "), and made nearly
    // every prompt run all the patterns.
    private static readonly SearchValues<string> TriggerWords = SearchValues.Create(
        ["ignor", "disregard", "forget", "overrid", "bypass", "skip", "discard", "drop", "abandon", "instruction", "prompt",
         "from now on", "reveal", "repeat", "verbatim", "system", "pretend", "imagine", "act as", "act like", "role", "you are now", "you're now",
         "simulat", "bound by", "restricted", "no rules", "unfiltered", "uncensored", "unrestricted", "unaligned", "amoral", "anything now",
         " mode", "character", " dan", " stan", " dude", " aim", " antigpt", " betterdan", " evilbot", "jailbr", "<|", "[inst", "[/inst",
         "<<sys", "<</sys", "###", "end of", "begin of", "decode", "decipher", "translate", "unscramble", "reverse", "new ", "your "],
        StringComparison.OrdinalIgnoreCase);

    private static double Weigh(Regex pattern, ReadOnlySpan<char> text, double innocence) =>
        pattern.IsMatch(text) ? innocence : 1.0;

    /// <summary>A base64 run that decodes to readable text which itself scores as an injection is near-certain evidence.</summary>
    private static double EncodedPayloadInnocence(ReadOnlySpan<char> text)
    {
        foreach (var match in Base64Pattern().EnumerateMatches(text))
        {
            if (match.Length > MaximumEncodedLength)
            {
                continue;
            }

            // Unpadded base64 decodes only in whole quanta of four characters.
            var encoded = text.Slice(match.Index, match.Length);
            if (encoded[^1] != '=')
            {
                encoded = encoded[..(encoded.Length & ~3)];
            }

            var rented = ArrayPool<byte>.Shared.Rent(encoded.Length);
            try
            {
                if (!Convert.TryFromBase64Chars(encoded, rented, out var written) || !IsMostlyPrintable(rented.AsSpan(0, written)))
                {
                    continue;
                }

                var decoded = Encoding.UTF8.GetString(rented, 0, written);
                if (Score(decoded, decodePayloads: false) >= 0.3)
                {
                    return 0.05;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }

        return 1.0;
    }

    private static bool IsMostlyPrintable(ReadOnlySpan<byte> bytes)
    {
        var printable = 0;
        foreach (var b in bytes)
        {
            if (b is >= 0x20 and < 0x7F or (byte)'\n' or (byte)'\r' or (byte)'\t')
            {
                printable++;
            }
        }

        return bytes.Length > 0 && printable * 10 >= bytes.Length * 9;
    }

    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.IgnoreCase | RegexOptions.ExplicitCapture | RegexOptions.IgnorePatternWhitespace;

    [GeneratedRegex("""
        \b(?:ignore|disregard|forget|override|bypass|skip|discard|drop|abandon)\b [\w\s,'"-]{0,40}?
        \b(?:previous|prior|above|earlier|preceding|foregoing|original|initial|system|all|any|every|your|developer'?s?)\b [\w\s,'"-]{0,30}?
        \b(?:instructions?|prompts?|rules|directives?|guidelines|constraints|programming|guardrails|restrictions|policies|safeguards|filters|commands)\b
        """, Options)]
    private static partial Regex OverridePattern();

    [GeneratedRegex("""
        \b(?:new|updated|real|actual|true)\ (?:system\ )?(?:instructions|rules|directives?|task|prompt)\s*:
        |\bfrom\ now\ on\b.{0,40}\b(?:you\ (?:are|will|must|shall|have)|ignore|only\ obey|respond\ only)
        |\byour\ (?:new|real|true)\ (?:instructions|purpose|task|role)\ (?:is|are)\b
        """, Options)]
    private static partial Regex NewInstructionsPattern();

    [GeneratedRegex("""
        \b(?:reveal|print|show|display|repeat|output|leak|dump|tell\ me|give\ me|share|recite|what\ (?:is|are|was|were))\b [\w\s,'"-]{0,30}?
        \b(?:your|the)\ (?:full\ |entire\ |original\ |exact\ |complete\ |hidden\ |secret\ |initial\ )?
        (?:system\ (?:prompt|message|instructions)|initial\ (?:instructions|prompt)|hidden\ (?:instructions|prompt)|developer\ (?:message|instructions|prompt)|pre-?prompt|instructions\ (?:above|verbatim))
        |\brepeat\b.{0,30}\b(?:words|text|everything|all)\ (?:above|before\ this)
        |\b(?:everything|all\ text)\ (?:above|before)\ (?:this\ line\ )?verbatim
        """, Options)]
    private static partial Regex PromptLeakPattern();

    [GeneratedRegex("""
        \b(?:pretend|imagine|act\ as\ if|act\ like|act\ as|roleplay|role-play|you\ are\ now|you're\ now|from\ now\ on\ you\ are|simulate|play\ the\ role)\b
        .{0,100}?
        \b(?:no|without|free\ (?:of|from)|not\ bound\ by|ignor\w*|lacks?|zero|bypass\w*)\s+(?:any\s+|all\s+|the\s+)?(?:\w+\s+)?
        (?:restrictions|limitations|limits|rules|filters|guidelines|censorship|ethics|ethical|morals?|moral|content\ polic\w*|safety|boundaries|constraints|programming)
        """, Options)]
    private static partial Regex RolePlayEscapePattern();

    [GeneratedRegex("""
        \b(?:no\ longer|not|never)\ (?:be\ )?(?:bound|restricted|limited|constrained|governed)\ by\b
        |\byou\ (?:have|now\ have|possess)\ no\ (?:rules|restrictions|limits|filters|guidelines|ethics)
        |\b(?:unfiltered|uncensored|unrestricted|unaligned|amoral)\ (?:ai|assistant|model|mode|version|chatbot|responses?|answers?|llm)\b
        |\bcan\ do\ anything\ now\b
        """, Options)]
    private static partial Regex UnboundPattern();

    [GeneratedRegex("""
        \b(?:developer|god|dev|debug|sudo|admin|evil|chaos|opposite)\ mode\b.{0,60}\b(?:enabled|activated|on|unlocked|engaged|enable|activate)\b
        |\b(?:enable|activate|enter|switch\ to|turn\ on)\ (?:developer|god|dev|debug|sudo|evil|chaos|unrestricted)\ mode\b
        |\bstay\ in\ character\b
        |\b(?:as|you\ are)\ (?:DAN|STAN|DUDE|AIM|AntiGPT|BetterDAN|EvilBOT)\b
        """, Options)]
    private static partial Regex PersonaPattern();

    [GeneratedRegex(@"\bjailbr(?:eak|oken)\b|\bdo anything now\b", Options)]
    private static partial Regex JailbreakWordPattern();

    [GeneratedRegex("""
        <\|im_start\|>|<\|im_end\|>|<\|system\|>|<\|endoftext\|>|\[/?INST\]|<</?SYS>>|</?system>
        |(?m:^\s*\#{2,}\s*(?:system|new\ instructions?)\b)
        |\b(?:end|begin)\ of\ (?:system\ |user\ )?(?:prompt|instructions)\b
        |(?m:^\s*system\s*:\s*you\ (?:are|must|will)\b)
        """, Options)]
    private static partial Regex DelimiterPattern();

    [GeneratedRegex("""
        \b(?:decode|decipher|base64-?decode|translate|unscramble|reverse)\b.{0,60}\b(?:and|then)\s+(?:follow|execute|obey|do\ what|run|carry\ out|act\ on|comply)
        """, Options)]
    private static partial Regex DecodeAndObeyPattern();

    [GeneratedRegex(@"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{24,}={0,2}", RegexOptions.CultureInvariant | RegexOptions.ExplicitCapture)]
    private static partial Regex Base64Pattern();
}
