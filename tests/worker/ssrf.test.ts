/** R11: the SSRF address classifier and host check, without the network (a stand-in resolver). */
import { createServer } from "node:http";
import { fetch } from "undici";
import { describe, expect, it } from "vitest";
import { StepError } from "../../worker/errors.js";
import { assertPublicHost, classifyAddress, pinnedDispatcher } from "../../worker/ssrf.js";

describe("R11 SSRF address classifier", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["100.127.255.254", "carrier-grade NAT"],
    ["169.254.169.254", "cloud metadata"],
    ["169.254.1.1", "link-local"],
    ["fe80::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fd00:ec2::254", "cloud metadata"],
    ["0.0.0.0", "this-network"],
    ["::", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "cloud metadata"],
    ["64:ff9b::a9fe:a9fe", "cloud metadata"],
    ["2002:0a00:0001::1", "private"],
    ["[::1]", "loopback"],
    ["example.com", "not an IP address"],
  ])("refuses %s (%s)", (address, reason) => {
    expect(classifyAddress(address)).toBe(reason);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])(
    "allows the public address %s",
    (address) => {
      expect(classifyAddress(address)).toBeNull();
    },
  );
});

describe("R11 host check", () => {
  const resolver = (table: Record<string, string[]>) => async (hostname: string) => table[hostname] ?? [];

  it("refuses a name when any of its addresses is private", async () => {
    const check = assertPublicHost(new URL("http://mixed.test/"), [], resolver({ "mixed.test": ["8.8.8.8", "10.0.0.5"] }));
    await expect(check).rejects.toBeInstanceOf(StepError);
    await expect(check).rejects.toThrow(/10\.0\.0\.5 \(private\)/);
  });

  it("allows a public name, an allow-listed name, and an allow-listed address", async () => {
    await expect(assertPublicHost(new URL("http://public.test/"), [], resolver({ "public.test": ["8.8.8.8"] }))).resolves.toMatchObject({
      addresses: ["8.8.8.8"],
    });
    await expect(assertPublicHost(new URL("http://internal.test/"), ["internal.test"], resolver({}))).resolves.toBeTruthy();
    await expect(
      assertPublicHost(new URL("http://svc.test/"), ["10.0.0.7"], resolver({ "svc.test": ["10.0.0.7"] })),
    ).resolves.toBeTruthy();
  });

  it("refuses literal IPs in URLs, IPv6 in brackets included", async () => {
    await expect(assertPublicHost(new URL("http://169.254.169.254/latest/meta-data"), [], resolver({}))).rejects.toThrow(/cloud metadata/);
    await expect(assertPublicHost(new URL("http://[::1]:8080/"), [], resolver({}))).rejects.toThrow(/loopback/);
    await expect(assertPublicHost(new URL("http://2130706433/"), [], resolver({}))).rejects.toThrow(/loopback/); // 127.0.0.1 as a number
  });

  it("R11: an entry host:port allows that port only; a bare host allows every port", async () => {
    const local = resolver({ "svc.test": ["10.0.0.7"] });
    await expect(assertPublicHost(new URL("http://svc.test:8080/"), ["svc.test:8080"], local)).resolves.toBeTruthy();
    await expect(assertPublicHost(new URL("http://svc.test:8081/"), ["svc.test:8080"], local)).rejects.toThrow(/Add "svc\.test:8081" to HTTP_ALLOW_HOSTS/);
    await expect(assertPublicHost(new URL("http://svc.test/"), ["svc.test:80"], local)).resolves.toBeTruthy(); // the scheme's default port
    await expect(assertPublicHost(new URL("https://svc.test/"), ["svc.test:80"], local)).rejects.toThrow(/private/);
    await expect(assertPublicHost(new URL("http://svc.test:9/"), ["10.0.0.7:9"], local)).resolves.toBeTruthy(); // an address with a port
    await expect(assertPublicHost(new URL("http://svc.test:10/"), ["10.0.0.7:9"], local)).rejects.toThrow(/private/);
    await expect(assertPublicHost(new URL("http://[::1]:3000/"), ["[::1]:3000"], local)).resolves.toBeTruthy();
    await expect(assertPublicHost(new URL("http://[::1]:3001/"), ["[::1]:3000"], local)).rejects.toThrow(/loopback/);
    await expect(assertPublicHost(new URL("http://[::1]:3001/"), ["::1"], local)).resolves.toBeTruthy();
    await expect(assertPublicHost(new URL("http://svc.test:1234/"), ["svc.test"], local)).resolves.toBeTruthy();
  });

  it("fails clearly when a name does not resolve", async () => {
    await expect(assertPublicHost(new URL("http://nowhere.test/"), [], resolver({}))).rejects.toThrow(/no addresses/);
  });
});

describe("R11 DNS rebinding", () => {
  it("R11: the connection goes to the checked address, not to whatever the name resolves to at connect time", async () => {
    const server = createServer((request, response) => response.end(`host=${request.headers.host}`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as { port: number }).port;
    const dispatcher = pinnedDispatcher("127.0.0.1");
    try {
      // `.invalid` never resolves (RFC 2606): only the pinned address can make this request succeed, and the
      // Host header still names the URL's host.
      const response = await fetch(`http://rebind.invalid:${port}/`, { dispatcher });
      expect(await response.text()).toBe(`host=rebind.invalid:${port}`);
    } finally {
      await dispatcher.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
