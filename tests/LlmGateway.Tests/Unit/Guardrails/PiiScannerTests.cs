using LlmGateway.Guardrails.Detection;

namespace LlmGateway.Tests.Unit.Guardrails;

public sealed class PiiScannerTests
{
    private static List<TextMatch> Scan(string text)
    {
        var matches = new List<TextMatch>();
        PiiScanner.Scan(text, PiiEntities.All, matches);
        return matches;
    }

    [Theory]
    [InlineData("Write to maria.rossi@example.org today.", "maria.rossi@example.org", "EMAIL")]
    [InlineData("Call +44 20 7946 0958 after lunch.", "+44 20 7946 0958", "PHONE")]
    [InlineData("Call (415) 555-2671 now.", "(415) 555-2671", "PHONE")]
    [InlineData("Charge 4111 1111 1111 1111 please.", "4111 1111 1111 1111", "CARD")]
    [InlineData("Amex 3782-822463-10005 was used.", "3782-822463-10005", "CARD")]
    [InlineData("Wire to DE89 3704 0044 0532 0130 00 by Monday.", "DE89 3704 0044 0532 0130 00", "IBAN")]
    [InlineData("IBAN GB82WEST12345698765432 on file.", "GB82WEST12345698765432", "IBAN")]
    [InlineData("SSN 123-45-6789 on the form.", "123-45-6789", "SSN")]
    [InlineData("Traffic from 203.0.113.42 spiked.", "203.0.113.42", "IP")]
    [InlineData("Host 2001:db8::8a2e:370:7334 is down.", "2001:db8::8a2e:370:7334", "IP")]
    [InlineData("export KEY=AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "SECRET")]
    [InlineData("token ghp_abcdefghijklmnopqrstuvwxyz0123456789 leaked", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "SECRET")]
    [InlineData("key sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345 here", "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz012345", "SECRET")]
    public void FindsTheValue_WithItsKind(string text, string value, string label)
    {
        var match = Scan(text).ShouldHaveSingleItem();
        match.Label.ShouldBe(label);
        text.Substring(match.Start, match.Length).ShouldBe(value);
    }

    [Theory]
    [InlineData("Card 4111 1111 1111 1112 fails Luhn.")]
    [InlineData("Order ORD-2024-118844 shipped.")]
    [InlineData("Upgrade to version 10.4.12 first.")]
    [InlineData("Running build 10.0.19041.1 on agents.")]
    [InlineData("Meeting on 2024-03-15 at 10:30.")]
    [InlineData("ISBN 978-3-16-148410-0 is in stock.")]
    [InlineData("Account DE89 3704 0044 0532 0130 01 has a bad check digit.")]
    [InlineData("Never-issued SSN 666-12-3456 and 000-12-3456 and 123-00-4567.")]
    [InlineData("Install lodash@4.17.21 and use std::vector.")]
    [InlineData("MAC 00:1A:2B:3C:4D:5E and time 12:30:45.")]
    [InlineData("Keys look like sk-... and AWS ones start with AKIA.")]
    [InlineData("Population 1,234,567 and revenue $9,876,543.21.")]
    public void IgnoresLookAlikes(string text) => Scan(text).ShouldBeEmpty();

    [Fact]
    public void FindsAPrivateKeyBlock_AsOneSecret()
    {
        const string Text = "here:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabc\n-----END RSA PRIVATE KEY-----\nthanks";

        var match = Scan(Text).ShouldHaveSingleItem();

        match.Label.ShouldBe("SECRET");
        Text.Substring(match.Start, match.Length).ShouldStartWith("-----BEGIN RSA PRIVATE KEY-----");
        Text.Substring(match.Start, match.Length).ShouldEndWith("-----END RSA PRIVATE KEY-----");
    }

    [Fact]
    public void ScansOnlyTheRequestedKinds()
    {
        var matches = new List<TextMatch>();
        PiiScanner.Scan("mail a@b.io, card 4111111111111111", PiiEntities.Card, matches);

        matches.ShouldHaveSingleItem().Label.ShouldBe("CARD");
    }
}
