using System.Net;
using System.Text.RegularExpressions;

namespace Idsess.AspNetCore.Tests;

/// <summary>A scripted user agent: one cookie jar, redirects followed by hand so each hop can be checked.</summary>
public sealed partial class Agent : IDisposable
{
    private readonly HttpClient _client = new(new SocketsHttpHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
    {
        Timeout = TimeSpan.FromSeconds(60),
        DefaultRequestHeaders = { { "User-Agent", UserAgent } },
    };

    /// <summary>The User-Agent header of every request, which idsess records with the session.</summary>
    public const string UserAgent = "idsess-e2e-agent/1.0";

    public sealed record Visit(IReadOnlyList<Uri> Chain, HttpStatusCode Status, string Body)
    {
        public Uri Last => Chain[^1];
    }

    public Task<Visit> GetAsync(Uri url) => FollowAsync(new HttpRequestMessage(HttpMethod.Get, url));

    private async Task<Visit> FollowAsync(HttpRequestMessage request)
    {
        var chain = new List<Uri> { request.RequestUri! };
        for (var hop = 0; ; hop++)
        {
            using var response = await _client.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if ((int)response.StatusCode is < 300 or >= 400 || response.Headers.Location is null)
            {
                return new Visit(chain, response.StatusCode, body);
            }
            Assert.True(hop < 20, "too many redirects: " + string.Join(" -> ", chain));
            var next = new Uri(request.RequestUri!, response.Headers.Location);
            chain.Add(next);
            request.Dispose();
            request = new HttpRequestMessage(HttpMethod.Get, next);
        }
    }

    /// <summary>Fills in and posts the login form the visit ended on.</summary>
    public async Task<Visit> LogInAsync(Visit loginPage, string user, string password)
    {
        Assert.Equal("/login", loginPage.Last.AbsolutePath);
        var returnUrl = WebUtility.HtmlDecode(ReturnUrl().Match(loginPage.Body).Groups[1].Value);
        Assert.NotEmpty(returnUrl);
        return await FollowAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(loginPage.Last, "/login"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["ReturnUrl"] = returnUrl, ["username"] = user, ["password"] = password }),
        });
    }

    [GeneratedRegex("name=\"ReturnUrl\" value=\"([^\"]*)\"")]
    private static partial Regex ReturnUrl();

    public void Dispose() => _client.Dispose();
}
